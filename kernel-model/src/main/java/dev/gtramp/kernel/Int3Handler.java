package dev.gtramp.kernel;

/**
 * The text patcher's trap handler, {@code poke_int3_handler}: a CPU that executes the {@code int3}
 * placed at an entry site while the site is rewritten calls it, and it emulates the instruction
 * being written (a call to the new target, or the NOP) so the CPU reaches the new target at once.
 * A kernel has at most one, installed with {@link Kernel#installInt3Handler}.
 *
 * <p>On the call path of a CPU that races a patch: no locks, no allocation.
 */
@FunctionalInterface
public interface Int3Handler {
    /**
     * Resolves the new instruction at {@code frame.function()}'s site: its call target, or
     * {@code null} for the NOP; the CPU then executes it. The CPU calls this before its
     * instruction fetch ends: {@code do_int3} runs with interrupts disabled, so the sync IPI that
     * ends a patching phase ({@link Kernel#syncCores()}) is not taken between the trap and the
     * handler's return, and the patcher cannot finish (and drop its batch) under a handler.
     *
     * @throws KernelException if the int3 is not one the patcher placed (a kernel oops)
     */
    CallTarget resolve(Frame frame);
}
