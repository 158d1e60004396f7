/*
 * log.c - the logging facility: formats one line per call and writes it with
 * a single write(2). No buffering, no rate limiting yet, no per-packet use.
 */
#include "core/log.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum tw_log_level cur_level = TW_LOG_NOTICE;
static int log_fd = STDERR_FILENO;
static const char *prog = "tcptwin";

static const char *const level_name[] = {
	[TW_LOG_ERR] = "error",   [TW_LOG_WARN] = "warning", [TW_LOG_NOTICE] = "notice",
	[TW_LOG_INFO] = "info",   [TW_LOG_DEBUG] = "debug",
};

void tw_log_set_level(enum tw_log_level lvl)
{
	cur_level = lvl;
}

void tw_log_set_prog(const char *p)
{
	prog = p;
}

int tw_log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		return -errno;
	log_fd = fd;
	return 0;
}

FILE *tw_log_stream(void)
{
	static FILE *f;
	static int f_fd = -1;

	if (log_fd == STDERR_FILENO)
		return stderr;
	if (f && f_fd == log_fd)
		return f;
	int fd = dup(log_fd);
	FILE *nf = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!nf) {
		if (fd >= 0)
			close(fd);
		return stderr;
	}
	setvbuf(nf, NULL, _IOLBF, 0);
	f = nf;
	f_fd = log_fd;
	return f;
}

void tw_log_(enum tw_log_level lvl, int err, const char *module, const char *fmt, ...)
{
	char buf[1024];
	size_t n = 0;
	int r;
	va_list ap;

	if (lvl > cur_level)
		return;
	r = module ? snprintf(buf, sizeof(buf), "%s[%s]: %s: ", prog, module, level_name[lvl])
		   : snprintf(buf, sizeof(buf), "%s: %s: ", prog, level_name[lvl]);
	if (r > 0)
		n = (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(buf) - n ? (size_t)r : sizeof(buf) - n - 1;
	if (err != 0 && n < sizeof(buf) - 1) {
		r = snprintf(buf + n, sizeof(buf) - n, ": %s", tw_strerror(err));
		if (r > 0)
			n += (size_t)r < sizeof(buf) - n ? (size_t)r : sizeof(buf) - n - 1;
	}
	if (n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(log_fd, buf, n);
}
