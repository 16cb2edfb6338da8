/**
 * jcstress tests of {@code percpu_ref}: get, put and kill, release exactly once, and
 * {@code percpu_ref_tryget_live} against the kill.
 */
package dev.gtramp.stress.percpu;
