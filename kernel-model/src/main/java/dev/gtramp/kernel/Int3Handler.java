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
     * Emulates the new instruction at {@code frame.function()}'s site and returns what the call
     * returns.
     *
     * @throws KernelException if the int3 is not one the patcher placed (a kernel oops)
     */
    long handle(Frame frame);
}
