/**
 * ftrace ({@code kernel/trace/ftrace.c}): records of every patchable site, ops and their filter
 * hashes, the list and direct callers, direct calls ({@code direct_functions}) with the classic API
 * ({@code register_ftrace_direct}) and the batch API ({@code update_ftrace_direct_add/del/mod}),
 * x86 text patching ({@code text_poke_bp_batch}) and exact cost counters. A failed update leaves
 * records, ops, hashes and sites as they were.
 */
package dev.gtramp.ftrace;
