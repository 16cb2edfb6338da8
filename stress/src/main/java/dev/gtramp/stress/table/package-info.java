/**
 * jcstress tests of {@code RcuLongHashTable}: resizes and deletes against lookups.
 */
package dev.gtramp.stress.table;
