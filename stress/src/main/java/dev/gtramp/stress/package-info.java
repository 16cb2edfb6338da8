/**
 * The jcstress suite: each test's body races a traced call against a writer on a kernel of its own
 * per trial, states its hazard and its forbidden outcome, and is paired with a broken twin (the same
 * body on a kernel built with an {@code UnsafeVariant}) that it must catch by that outcome.
 */
package dev.gtramp.stress;
