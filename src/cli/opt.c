/*
 * opt.c - the option-table helper: builds getopt_long's arguments from a
 * struct tw_opt table and prints help from the same table. No option
 * semantics live here.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 64

int tw_cli_getopt(int argc, char **argv, const struct tw_opt *table)
{
	/* Rebuilt on every call; tables are tiny and this is not a hot path. */
	static struct option longopts[MAX_OPTS + 1];
	static char shortopts[MAX_OPTS * 2 + 2];
	size_t nl = 0, ns = 0;

	/* No leading '+': like tcpdump, options may follow the filter words. */
	for (const struct tw_opt *o = table; (o->lname || o->sname) && nl < MAX_OPTS; o++) {
		if (o->lname) {
			longopts[nl].name = o->lname;
			longopts[nl].has_arg = o->has_arg ? required_argument : no_argument;
			longopts[nl].flag = NULL;
			longopts[nl].val = o->sname;
			nl++;
		}
		if (o->sname > 0 && o->sname < 256) {
			shortopts[ns++] = (char)o->sname;
			if (o->has_arg)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[nl], 0, sizeof(longopts[nl]));
	shortopts[ns] = '\0';
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

void tw_cli_help(FILE *out, const char *cmd, const char *synopsis, const struct tw_opt *table)
{
	fprintf(out, "Usage: tcptwin %s %s\n\nOptions:\n", cmd, synopsis);
	for (const struct tw_opt *o = table; o->lname || o->sname; o++) {
		char left[64];
		int n = 0;

		if (o->sname > 0 && o->sname < 256)
			n = snprintf(left, sizeof(left), "-%c%s", o->sname, o->lname ? ", " : "");
		else
			n = snprintf(left, sizeof(left), "    ");
		if (o->lname && n >= 0 && (size_t)n < sizeof(left))
			n += snprintf(left + n, sizeof(left) - (size_t)n, "--%s", o->lname);
		if (o->has_arg && n >= 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->argname ? o->argname : "ARG");
		fprintf(out, "  %-30s %s\n", left, o->help);
	}
}

int tw_cli_usage_error(const char *cmd, const char *synopsis, const struct tw_opt *table,
		       const char *what, const char *arg)
{
	fprintf(stderr, "tcptwin %s: %s%s%s%s\n", cmd, what, arg ? " '" : "", arg ? arg : "",
		arg ? "'" : "");
	tw_cli_help(stderr, cmd, synopsis, table);
	return 2;
}

int tw_cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
