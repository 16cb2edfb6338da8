/**
 * The gate of the jcstress suite ({@code stress/run-jcstress}): it reads jcstress's verbose log and
 * the tests' annotations and decides whether each test raced ({@code @RacyOutcome}) and each broken
 * twin was caught by its documented outcome ({@code @CaughtBy}), with a sample minimum.
 */
package dev.gtramp.stress.gate;
