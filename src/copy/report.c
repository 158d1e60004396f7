/*
 * report.c - the end-of-run summary of `tcptwin copy`: sessions by outcome,
 * requests and bytes sent, retransmissions, reply bytes, what was refused,
 * and the first sessions that were not delivered whole, named by their
 * captured client. As text (stderr) and as JSON (--report). No I/O besides
 * the FILE given.
 */
#include "copy/engine_int.h"
#include "copy/engine.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

void tw_copy_session_name(const struct csess *cs, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(cs->orig_ver == 4 ? AF_INET : AF_INET6, cs->orig, a, sizeof(a));
	snprintf(buf, len, cs->orig_ver == 4 ? "%s:%u copy %u" : "[%s]:%u copy %u", a, cs->orig_port,
		 (unsigned)cs->ck.copy);
}

void tw_copy_note_loss(struct tw_copy *c, const struct csess *cs)
{
	if (c->nloss >= TW_COPY_LOSS_NAMES)
		return;
	tw_copy_session_name(cs, c->loss[c->nloss].name, sizeof(c->loss[0].name));
	c->loss[c->nloss].outcome = cs->outcome;
	c->nloss++;
}

static uint64_t total_outcomes(const struct tw_copy *c)
{
	uint64_t n = 0;

	for (int o = TW_OUT_DONE; o < TW_OUT_MAX; o++)
		n += c->sst.outcomes[o];
	return n;
}

void tw_copy_print_summary(const struct tw_copy *c, FILE *out)
{
	const struct tw_sess_stats *ss = &c->sst;
	struct tw_copy_stats st;

	tw_copy_get_stats(c, &st);
	uint64_t ended = total_outcomes(c);

	fprintf(out, "tcptwin copy: %llu sessions replayed, %llu ended:",
		(unsigned long long)c->st.sessions, (unsigned long long)ended);
	for (int o = TW_OUT_DONE; o < TW_OUT_MAX; o++)
		fprintf(out, " %s %llu", tw_outcome_name((enum tw_outcome)o),
			(unsigned long long)ss->outcomes[o]);
	fprintf(out, "\n");
	fprintf(out, "  sent: %llu packets, %llu payload bytes, %llu retransmissions, %llu send errors\n",
		(unsigned long long)ss->pkts_sent, (unsigned long long)ss->bytes_sent,
		(unsigned long long)ss->retrans,
		(unsigned long long)(ss->send_errors + c->st.sink_errors));
	fprintf(out, "  target: %llu reply bytes; releases by ack %llu, settle %llu, timeout %llu\n",
		(unsigned long long)ss->reply_bytes, (unsigned long long)ss->releases_acked,
		(unsigned long long)ss->releases_settled, (unsigned long long)ss->releases_timeout);
	fprintf(out, "  input: %llu frames, %llu client TCP packets, %llu truncated, %llu undecodable, "
		     "%llu dropped by the capture\n",
		(unsigned long long)c->st.frames, (unsigned long long)c->st.tcp_client,
		(unsigned long long)c->st.truncated, (unsigned long long)c->st.undecodable,
		(unsigned long long)st.capture_drops);
	if (c->st.resp_match + c->st.resp_differ + c->st.resp_unjudged)
		fprintf(out, "  responses: %llu exchanges match production, %llu differ, %llu not judged "
			     "(production's reply not wholly captured)\n",
			(unsigned long long)c->st.resp_match, (unsigned long long)c->st.resp_differ,
			(unsigned long long)c->st.resp_unjudged);
	if (c->st.family_refused)
		fprintf(out, "  %llu conversations not replayed: no client address of the target's IP "
			     "version (-c)\n", (unsigned long long)c->st.family_refused);
	if (c->st.after_gap)
		fprintf(out, "  %llu captured packets of conversations already lost to a gap were not replayed\n",
			(unsigned long long)c->st.after_gap);
	if (st.capture_drops)
		fprintf(out, "  the capture lost packets: sessions that miss them end as gap (raise -B)\n");
	if (c->st.sessions_refused || c->st.tuples_refused || ss->held_refused)
		fprintf(out, "  refused: %llu sessions (cap), %llu without a free tuple, %llu segments (held-bytes cap)\n",
			(unsigned long long)c->st.sessions_refused,
			(unsigned long long)c->st.tuples_refused,
			(unsigned long long)ss->held_refused);
	for (unsigned i = 0; i < c->nloss; i++)
		fprintf(out, "  not delivered whole: %s: %s\n", c->loss[i].name,
			tw_outcome_name(c->loss[i].outcome));
	if (ended - ss->outcomes[TW_OUT_DONE] > c->nloss)
		fprintf(out, "  ... and %llu more\n",
			(unsigned long long)(ended - ss->outcomes[TW_OUT_DONE] - c->nloss));
}

int tw_copy_write_json(const struct tw_copy *c, FILE *out)
{
	const struct tw_sess_stats *ss = &c->sst;
	struct tw_copy_stats st;

	tw_copy_get_stats(c, &st);

	fprintf(out, "{\n  \"sessions\": %llu,\n  \"outcomes\": {",
		(unsigned long long)c->st.sessions);
	for (int o = TW_OUT_DONE; o < TW_OUT_MAX; o++)
		fprintf(out, "%s\"%s\": %llu", o == TW_OUT_DONE ? "" : ", ",
			tw_outcome_name((enum tw_outcome)o), (unsigned long long)ss->outcomes[o]);
	fprintf(out, "},\n");
	fprintf(out, "  \"packets_sent\": %llu,\n  \"bytes_sent\": %llu,\n  \"retransmissions\": %llu,\n"
		     "  \"send_errors\": %llu,\n  \"reply_bytes\": %llu,\n",
		(unsigned long long)ss->pkts_sent, (unsigned long long)ss->bytes_sent,
		(unsigned long long)ss->retrans,
		(unsigned long long)(ss->send_errors + c->st.sink_errors),
		(unsigned long long)ss->reply_bytes);
	fprintf(out, "  \"releases\": {\"acked\": %llu, \"settled\": %llu, \"timeout\": %llu},\n",
		(unsigned long long)ss->releases_acked, (unsigned long long)ss->releases_settled,
		(unsigned long long)ss->releases_timeout);
	fprintf(out, "  \"input\": {\"frames\": %llu, \"client_tcp\": %llu, \"truncated\": %llu, "
		     "\"undecodable\": %llu, \"not_matched\": %llu, \"not_sampled\": %llu, "
		     "\"capture_drops\": %llu, \"after_gap\": %llu},\n",
		(unsigned long long)c->st.frames, (unsigned long long)c->st.tcp_client,
		(unsigned long long)c->st.truncated, (unsigned long long)c->st.undecodable,
		(unsigned long long)c->st.not_matched, (unsigned long long)c->st.not_sampled,
		(unsigned long long)st.capture_drops, (unsigned long long)c->st.after_gap);
	fprintf(out, "  \"refused\": {\"sessions\": %llu, \"tuples\": %llu, \"segments\": %llu, "
		     "\"family\": %llu},\n",
		(unsigned long long)c->st.sessions_refused, (unsigned long long)c->st.tuples_refused,
		(unsigned long long)ss->held_refused, (unsigned long long)c->st.family_refused);
	fprintf(out, "  \"responses\": {\"match\": %llu, \"differ\": %llu, \"not_judged\": %llu},\n",
		(unsigned long long)c->st.resp_match, (unsigned long long)c->st.resp_differ,
		(unsigned long long)c->st.resp_unjudged);
	fprintf(out, "  \"replies\": {\"received\": %llu, \"unknown\": %llu},\n",
		(unsigned long long)c->st.replies, (unsigned long long)c->st.replies_unknown);
	fprintf(out, "  \"not_delivered\": [");
	for (unsigned i = 0; i < c->nloss; i++)
		fprintf(out, "%s{\"session\": \"%s\", \"outcome\": \"%s\"}", i ? ", " : "",
			c->loss[i].name, tw_outcome_name(c->loss[i].outcome));
	fprintf(out, "]\n}\n");
	return ferror(out) ? -1 : 0;
}
