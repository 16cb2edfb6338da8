package dev.gtramp.stress.gate;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The acceptable outcome of a test that shows its race happened: the interleaving the test is about.
 * A test whose trials never produced it never raced, and proves nothing about the hazard, however
 * many samples it collected.
 *
 * <p>Where the test has several acceptable outcomes, it is the one in the middle (the two sides
 * overlapped: CPU 0's calls ran the old target and then the new one, a pre-existing reader that
 * the grace period waited for); where the harness forces the interleaving (a call held inside the
 * origin while the writer frees, calls back to back throughout the updates), it is the forced
 * acceptable outcome, usually the only one.
 *
 * <p>The value must be, verbatim, the id of an {@code ACCEPTABLE} (or {@code ACCEPTABLE_INTERESTING})
 * {@code @Outcome} the test declares or inherits; {@link JcstressGate} fails the test unless results
 * matching it (as a jcstress id, a regular expression matched whole) were observed at least once. The
 * class's javadoc must name it as {@code {@code 1, 0}}, which a unit test checks. It goes on the
 * concrete {@code @JCStressTest} class whose name ends in {@code Test}, next to that sentence.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface RacyOutcome {
    /** The racy acceptable outcome's id. */
    String value();
}
