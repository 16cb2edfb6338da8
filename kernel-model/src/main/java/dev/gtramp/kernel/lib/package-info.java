/**
 * Data structures of {@code lib/}: {@code RcuLongHashTable}, a resizable hash table whose lookups
 * run under RCU ({@code rhashtable}'s role in the kernel).
 */
package dev.gtramp.kernel.lib;
