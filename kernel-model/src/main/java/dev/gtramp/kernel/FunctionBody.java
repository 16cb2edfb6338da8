package dev.gtramp.kernel;

/**
 * The code of a kernel function after its entry site: what runs when the site is a NOP, or when a
 * trampoline makes the origin call. A body reads its arguments from the frame and may call other
 * kernel functions through {@link Frame#cpu()}.
 */
@FunctionalInterface
public interface FunctionBody {
    /** Runs the function body and returns its return value (0 for {@code void}). */
    long run(Frame frame);
}
