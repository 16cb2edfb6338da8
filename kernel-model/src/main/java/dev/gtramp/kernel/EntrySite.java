package dev.gtramp.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The code at one function address: the patchable instruction at the entry (the
 * {@code call __fentry__} slot that ftrace manages) and the body after it. The instruction is either
 * a NOP, in which case the body runs, or a CALL to a {@link CallTarget}. Names that alias one
 * address share its site, as they share the code in a kernel.
 *
 * <p>Invariant: {@link #read()} returns either {@code null} (NOP) or a fully constructed target
 * that was published by {@link #write}; a caller racing a write sees the old or the new
 * instruction, never anything else. The text-patching layer (x86 {@code text_poke_bp_batch} in
 * {@code ftrace-direct}) is the only writer and serialises writes; this class orders them.
 */
public final class EntrySite {
    private static final VarHandle INSN;
    private static final VarHandle BODY;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            INSN = l.findVarHandle(EntrySite.class, "insn", CallTarget.class);
            BODY = l.findVarHandle(EntrySite.class, "body", FunctionBody.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long ip;
    /** The first function (in image order) at this address; set once while the kernel boots. */
    private KernelFunction function;
    /** Accessed through {@link #INSN} only; {@code null} is the NOP. */
    @SuppressWarnings("unused")
    private CallTarget insn;
    /** Accessed through {@link #BODY} only. */
    @SuppressWarnings("unused")
    private FunctionBody body;

    EntrySite(long ip, FunctionBody body) {
        this.ip = ip;
        this.body = body;
    }

    void setFunction(KernelFunction f) {
        if (function == null) {
            function = f;
        }
    }

    /** The function this site is the entry of (the first of its aliases). */
    public KernelFunction function() {
        return function;
    }

    /** The site's address: the function's ip. */
    public long ip() {
        return ip;
    }

    /**
     * The body after the entry instruction. Acquire pairs with the release in {@link #setBody}, so
     * a body installed while other CPUs call the function is seen fully constructed.
     */
    public FunctionBody body() {
        return (FunctionBody) BODY.getAcquire(this);
    }

    void setBody(FunctionBody b) {
        BODY.setRelease(this, b);
    }

    /**
     * The instruction a CPU executes now: {@code null} for the NOP, else the CALL's target.
     * Acquire pairs with the release in {@link #write}, so the target's fields are visible to a
     * caller that reaches it; a stronger mode would buy nothing, as a caller needs no order
     * against other sites.
     */
    public CallTarget read() {
        return (CallTarget) INSN.getAcquire(this);
    }

    /** Whether the site holds the NOP. */
    public boolean isNop() {
        return read() == null;
    }

    /**
     * Writes the instruction ({@code null} for the NOP). Release publishes the target's
     * construction before any caller can reach it. For use by the text-patching layer only, which
     * serialises writers and provides the cross-CPU synchronisation the kernel needs around them.
     */
    public void write(CallTarget target) {
        INSN.setRelease(this, target);
    }

    @Override
    public String toString() {
        CallTarget t = read();
        return String.format("%s+0x0 [%#x]: %s", function == null ? "?" : function.name(), ip, t == null ? "nop" : "call " + t);
    }
}
