/*
 * timer.c - intrusive pairing heap of struct tw_timer (see timer.h).
 *
 * A pairing heap is a heap-ordered multiway tree kept as child/sibling
 * lists: melding two heaps makes the later root the first child of the
 * earlier one (O(1)); removing a node melds its children pairwise left to
 * right, then folds the pairs right to left (the "two-pass" rule, which
 * gives the O(log n) amortised bound). Written from the textbook description
 * (Fredman, Sedgewick, Sleator, Tarjan 1986); no recursion, no allocation.
 * Does not read any clock.
 */
#include "core/timer.h"

/* Strict order: deadline first, then arming order. */
static bool before(const struct tw_timer *a, const struct tw_timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->order < b->order;
}

/* Meld two root nodes (next == prev == NULL); returns the new root. */
static struct tw_timer *meld(struct tw_timer *a, struct tw_timer *b)
{
	if (before(b, a)) {
		struct tw_timer *tmp = a;
		a = b;
		b = tmp;
	}
	b->prev = a;
	b->next = a->child;
	if (a->child)
		a->child->prev = b;
	a->child = b;
	return a;
}

/* Two-pass pairing of the sibling list starting at FIRST; returns a root. */
static struct tw_timer *merge_pairs(struct tw_timer *first)
{
	struct tw_timer *stack = NULL, *root, *a, *b, *m;

	/* Pass 1, left to right: meld neighbours; push each result on a stack
	 * linked through ->next so pass 2 sees them right to left. */
	while (first) {
		a = first;
		b = a->next;
		first = b ? b->next : NULL;
		a->next = a->prev = NULL;
		if (b) {
			b->next = b->prev = NULL;
			m = meld(a, b);
		} else {
			m = a;
		}
		m->next = stack;
		stack = m;
	}
	if (!stack)
		return NULL;
	/* Pass 2, right to left: fold every pair into one heap. */
	root = stack;
	stack = stack->next;
	root->next = NULL;
	while (stack) {
		m = stack;
		stack = m->next;
		m->next = NULL;
		root = meld(root, m);
	}
	return root;
}

static void heap_remove(struct tw_timers *ts, struct tw_timer *t)
{
	struct tw_timer *sub;

	if (t == ts->root) {
		ts->root = merge_pairs(t->child);
	} else {
		/* Cut T out of its sibling list: prev is the parent when T is the
		 * first child, otherwise the previous sibling. */
		if (t->prev->child == t)
			t->prev->child = t->next;
		else
			t->prev->next = t->next;
		if (t->next)
			t->next->prev = t->prev;
		sub = merge_pairs(t->child);
		if (sub)
			ts->root = meld(ts->root, sub);
	}
	t->child = t->next = t->prev = NULL;
	t->armed = false;
	ts->count--;
}

void tw_timers_init(struct tw_timers *ts)
{
	*ts = (struct tw_timers){0};
}

void tw_timer_init(struct tw_timer *t, tw_timer_fn cb, void *arg)
{
	*t = (struct tw_timer){.cb = cb, .arg = arg};
}

void tw_timer_arm(struct tw_timers *ts, struct tw_timer *t, uint64_t deadline)
{
	if (t->armed)
		heap_remove(ts, t);
	t->deadline = deadline;
	t->order = ts->next_order++;
	t->child = t->next = t->prev = NULL;
	t->armed = true;
	ts->root = ts->root ? meld(ts->root, t) : t;
	ts->count++;
	ts->armed_total++;
}

void tw_timer_cancel(struct tw_timers *ts, struct tw_timer *t)
{
	if (!t->armed)
		return;
	heap_remove(ts, t);
	ts->cancelled_total++;
}

size_t tw_timers_run(struct tw_timers *ts, uint64_t now)
{
	uint64_t limit = ts->next_order; /* timers armed from here on wait */
	struct tw_timer *t;
	size_t n = 0;

	/* A timer armed during this run may become the root and stop the loop
	 * early although older due timers remain; they fire at the next run,
	 * still in deadline order, and tw_timers_next() reports them due. */
	while ((t = ts->root) && t->deadline <= now && t->order < limit) {
		heap_remove(ts, t);
		ts->fired_total++;
		n++;
		t->cb(t, now, t->arg);
	}
	return n;
}
