package dev.gtramp.ftrace;

/**
 * {@code ftrace_func_t}: the callback of an {@link FtraceOps}, called at the entry of every function
 * the ops traces, before the body runs. Runs on the call path: no locks, no allocation.
 */
@FunctionalInterface
public interface FtraceFunc {
    /**
     * @param ip       the traced function's address
     * @param parentIp the caller's address (the model has none and passes 0)
     * @param op       the ops this callback belongs to
     * @param regs     the saved registers of the call
     */
    void call(long ip, long parentIp, FtraceOps op, FtraceRegs regs);
}
