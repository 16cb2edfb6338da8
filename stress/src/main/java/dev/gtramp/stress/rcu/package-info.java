/**
 * jcstress tests of RCU: grace periods against readers, callbacks after readers, shared grace
 * periods, CPUs coming online, and litmus tests of the reader's fence.
 */
package dev.gtramp.stress.rcu;
