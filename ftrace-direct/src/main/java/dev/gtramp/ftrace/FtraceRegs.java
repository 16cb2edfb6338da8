package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.FunctionBody;

/**
 * {@code struct ftrace_regs}: the registers {@code ftrace_regs_caller} saves for the callbacks of a
 * call, and the two ways a callback changes where the call goes: {@code orig_ax} holding a direct
 * trampoline ({@code arch_ftrace_set_direct_caller}) and a modified instruction pointer (an
 * IPMODIFY user such as livepatch, {@code ftrace_regs_set_instruction_pointer}).
 *
 * <p>Preallocated per CPU and call depth and reset on each use, so a traced call allocates nothing.
 * Valid only during the callbacks of one call.
 */
public final class FtraceRegs {
    private Frame frame;
    private boolean full;
    private CallTarget directCaller;
    private FunctionBody ipModified;

    void reset(Frame frame, boolean fullRegs) {
        this.frame = frame;
        this.full = fullRegs;
        this.directCaller = null;
        this.ipModified = null;
    }

    /** The call these registers belong to (arguments via {@link Frame#arg}). */
    public Frame frame() {
        return frame;
    }

    /** {@code ftrace_get_regs() != NULL}: whether the caller saved full {@code pt_regs}. */
    public boolean hasFullRegs() {
        return full;
    }

    /** {@code arch_ftrace_set_direct_caller}: on return, enter {@code target} instead of the body. */
    public void setDirectCaller(CallTarget target) {
        this.directCaller = target;
    }

    /** The direct trampoline set by a callback ({@code regs->orig_ax}), or {@code null}. */
    public CallTarget directCaller() {
        return directCaller;
    }

    /** An IPMODIFY callback redirects the call to {@code replacement} (livepatch). */
    public void setInstructionPointer(FunctionBody replacement) {
        this.ipModified = replacement;
    }

    FunctionBody ipModified() {
        return ipModified;
    }

    void clear() {
        frame = null;
        directCaller = null;
        ipModified = null;
    }
}
