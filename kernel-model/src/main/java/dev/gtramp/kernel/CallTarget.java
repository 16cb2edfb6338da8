package dev.gtramp.kernel;

/**
 * What a patched entry site calls: an ftrace list function, a direct trampoline, the global caller.
 *
 * <p>In the kernel the 5-byte {@code call __fentry__} at a function's entry is patched into
 * {@code call <target>}; the target runs with the function's arguments still in registers and either
 * returns into the function body or, when it called the body itself (an "origin call"), skips the
 * body's frame and returns straight to the function's caller. In the model {@link #enter} receives
 * the call's {@link Frame}; it runs the body, if it wants it run, through {@link Frame#callOrigin()},
 * and its return value is what the caller of the traced function sees.
 *
 * <p>Implementations are on the call path of every traced call: no locks, no allocation.
 */
@FunctionalInterface
public interface CallTarget {
    /**
     * Handles one call of {@code frame.function()}.
     *
     * @return the value the traced function returns to its caller
     */
    long enter(Frame frame);
}
