package dev.gtramp.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The code at one function address: the 5-byte patchable instruction at the entry (the
 * {@code call __fentry__} slot that ftrace manages, a 5-byte NOP at boot) and the body after it.
 * Names that alias one address share its site, as they share the code in a kernel.
 *
 * <p>The instruction is modelled as the bytes x86 has: a first byte, the {@linkplain #opcode()
 * opcode}, and four more, the {@linkplain #operand() operand}. Valid instructions are
 * {@link #NOP} with the NOP's own tail bytes ({@link #NOP_TAIL}), {@link #CALL} with a target, and,
 * while {@code text_poke_bp_batch} rewrites the site, {@link #INT3} in the first byte with either
 * tail. A CPU fetches the opcode and then the operand, so a writer that changed both bytes without
 * the int3 protocol could let a CPU execute a mix: CALL with the NOP's tail or NOP with a call's
 * operand. The model executes such a mix as the fault it would be ({@link Cpu} reports it).
 *
 * <p>Invariant: only the text-patching layer writes a site that CPUs may execute, one phase at a
 * time with a {@linkplain Kernel#syncCores() core sync} between phases; {@link #write} is the
 * one-shot {@code text_poke_early} for a site no CPU can be executing.
 */
public final class EntrySite {
    /** First byte of the 5-byte NOP ({@code x86_nops[5]}: {@code 0f 1f 44 00 00}). */
    public static final int NOP = 0;
    /** First byte of {@code call rel32} ({@code e8}). */
    public static final int CALL = 1;
    /** {@code int3} ({@code cc}): the trap {@code text_poke_bp_batch} places while it patches. */
    public static final int INT3 = 2;

    /**
     * The four bytes after the NOP's first byte, seen as an operand. Entering it means a CPU
     * decoded {@code call} followed by NOP bytes: a call into garbage.
     */
    public static final CallTarget NOP_TAIL = new CallTarget() {
        @Override
        public long enter(Frame frame) {
            throw frame.cpu().kernel().tornInstruction(frame, "call followed by the NOP's tail bytes");
        }

        @Override
        public String toString() {
            return "nop-tail";
        }
    };

    private static final VarHandle OPCODE;
    private static final VarHandle OPERAND;
    private static final VarHandle BODY;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            OPCODE = l.findVarHandle(EntrySite.class, "opcode", int.class);
            OPERAND = l.findVarHandle(EntrySite.class, "operand", CallTarget.class);
            BODY = l.findVarHandle(EntrySite.class, "body", FunctionBody.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long ip;
    /** The first function (in image order) at this address; set once while the kernel boots. */
    private KernelFunction function;
    /** Accessed through {@link #OPCODE} only. */
    @SuppressWarnings("unused")
    private int opcode = NOP;
    /** Accessed through {@link #OPERAND} only. */
    @SuppressWarnings("unused")
    private CallTarget operand = NOP_TAIL;
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
     * The first byte. Acquire pairs with the release in {@link #pokeOpcode}: a CPU that reads a
     * first byte also sees the operand bytes written before it, which is what the last phase of
     * {@code text_poke_bp_batch} (tail first, then the first byte) relies on.
     */
    public int opcode() {
        return (int) OPCODE.getAcquire(this);
    }

    /** The operand bytes. Acquire, so a target reached through them is seen fully constructed. */
    public CallTarget operand() {
        return (CallTarget) OPERAND.getAcquire(this);
    }

    /**
     * Writes the first byte, as one {@code text_poke} of one byte. Release orders every earlier
     * write of the patcher (the tail, the target's construction) before it.
     */
    public void pokeOpcode(int op) {
        if (op != NOP && op != CALL && op != INT3) {
            throw new KernelException(Errno.EINVAL, "opcode " + op + " at " + this);
        }
        OPCODE.setRelease(this, op);
    }

    /** Writes the four operand bytes, as one {@code text_poke}. Release publishes the target. */
    public void pokeOperand(CallTarget target) {
        if (target == null) {
            throw new KernelException(Errno.EINVAL, "null operand at " + this + "; the NOP's tail is NOP_TAIL");
        }
        OPERAND.setRelease(this, target);
    }

    /**
     * The instruction as a whole, for inspection: {@code null} for the NOP, the target of a CALL.
     *
     * @throws KernelException EBUSY while the site holds an int3 or a torn instruction (it is being
     *                         patched)
     */
    public CallTarget read() {
        int op = opcode();
        CallTarget t = operand();
        if (op == NOP && t == NOP_TAIL) {
            return null;
        }
        if (op == CALL && t != NOP_TAIL) {
            return t;
        }
        throw new KernelException(Errno.EBUSY, this + " is being patched");
    }

    /** Whether the site holds the NOP. */
    public boolean isNop() {
        return opcode() == NOP && operand() == NOP_TAIL;
    }

    /**
     * {@code text_poke_early}: writes a whole instruction ({@code null} for the NOP) at once, for a
     * site no other CPU executes now (boot, tests, a kernel with one thread). Under concurrent calls
     * use the text-patching layer, which keeps every CPU on the old or the new instruction.
     */
    public void write(CallTarget target) {
        if (target == null) {
            pokeOpcode(INT3);
            pokeOperand(NOP_TAIL);
            pokeOpcode(NOP);
        } else {
            pokeOpcode(INT3);
            pokeOperand(target);
            pokeOpcode(CALL);
        }
    }

    @Override
    public String toString() {
        int op = opcode();
        CallTarget t = operand();
        String insn = switch (op) {
            case NOP -> t == NOP_TAIL ? "nop" : "nop(torn: " + t + ")";
            case CALL -> "call " + t;
            default -> "int3 (" + t + ")";
        };
        return String.format("%s+0x0 [%#x]: %s", function == null ? "?" : function.name(), ip, insn);
    }
}
