/* model.h - what the model layer's files share (internal to src/stack/). */
#ifndef ITM_STACK_MODEL_H
#define ITM_STACK_MODEL_H

#include "stack/node.h"
#include "stack/stack.h"

/* Everything a struct stack owns is allocated from its arena. */
struct stack_arena;
struct stack_arena *stack_arena_new (void);
void stack_arena_free (struct stack_arena *a);
void *sa_alloc (struct stack_arena *a, size_t n);           /* zeroed */
char *sa_strdup (struct stack_arena *a, const char *s);     /* NULL stays NULL */
char *sa_printf (struct stack_arena *a, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* graph.c: dependency cycles, as errors "dependency cycle: a -> b -> a". */
void stack_check_cycles (const struct stack *st, struct diags *d);

#endif
