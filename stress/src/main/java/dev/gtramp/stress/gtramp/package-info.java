/**
 * jcstress tests of the global trampoline: the lifetime of a {@code kfunc_md} against calls in
 * flight (both free protocols, every md index), mixing with per-function trampolines, the padding
 * index, failed attaches and multi links joining trampolines.
 */
package dev.gtramp.stress.gtramp;
