/**
 * Fault injection ({@code CONFIG_FAULT_INJECTION}, {@code should_fail}): named fault points in
 * allocations, text patching and ftrace updates, and the policies that fail their n-th hit, so that
 * every rollback path can be driven.
 */
package dev.gtramp.kernel.fault;
