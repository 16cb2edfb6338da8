package dev.gtramp.stress.gate;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The outcome that proves a broken twin was caught: the forbidden outcome its javadoc documents
 * ("Must show {@code 1, 0, 1}"), which the broken {@code UnsafeVariant} produces and the real
 * algorithm never does.
 *
 * <p>Each value is an outcome id as jcstress's {@code @Outcome} ids are: a Java regular expression
 * that must match an observed result whole ({@code "1, 0, 1"}, {@code "4, .*"}). {@link JcstressGate}
 * counts the twin as caught only if results matching one of the values were observed, and every
 * observed result they match is one jcstress graded FORBIDDEN. Any other forbidden outcome (the
 * catch-all {@code .*} row, a stuck writer, a harness outcome) does not count.
 *
 * <p>The twin's own {@code @Description} must name every value in its display form, the value with
 * each {@code .*} written {@code *} ({@code "4, .*"} is shown as {@code 4, *}), and so must its
 * javadoc, as {@code {@code 4, *}}; the gate checks the description, a unit test the javadoc.
 * It goes on the concrete {@code @JCStressTest} class whose name ends in {@code Broken}, next to that
 * sentence.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface CaughtBy {
    /** The documented forbidden outcome, or alternatives of which any one will do. */
    String[] value();
}
