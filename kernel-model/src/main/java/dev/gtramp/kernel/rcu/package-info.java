/**
 * RCU: read-side sections, grace periods and {@code call_rcu} callbacks, in two flavors, QSBR (a
 * CPU reports quiescent states, as non-preemptible RCU) and GENERAL (epoch-counted readers, as
 * preemptible RCU); tasks RCU (a task inside a traced call is a reader until it leaves or sleeps).
 */
package dev.gtramp.kernel.rcu;
