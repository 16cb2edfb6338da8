/**
 * jcstress tests that reach package-private internals of the trampoline package: the
 * {@code kfunc_md} users count under {@code kfunc_md_mutex}.
 */
package dev.gtramp.trampoline;
