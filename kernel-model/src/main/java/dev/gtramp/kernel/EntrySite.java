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
 *
 * <p><b>Padding.</b> The site also holds the 5-byte instruction at the head of the 16 bytes of
 * padding before the function ({@link #padding()}, a {@link PaddingInsn} word): {@code nop}s at boot,
 * {@code mov $index, %eax} once the per-function storage has given the function a {@code kfunc_md}
 * index. No CPU executes it; the global trampoline reads it as data. Only the text-patching layer
 * writes it ({@link #pokePadding}), under {@code text_mutex}, each write followed by a core sync.
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
    private static final VarHandle PADDING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            OPCODE = l.findVarHandle(EntrySite.class, "opcode", int.class);
            OPERAND = l.findVarHandle(EntrySite.class, "operand", CallTarget.class);
            BODY = l.findVarHandle(EntrySite.class, "body", FunctionBody.class);
            PADDING = l.findVarHandle(EntrySite.class, "padding", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long ip;
    /** The first function (in image order) at this address; set once while the kernel boots. */
    private KernelFunction function;
    /**
     * Bytes of padding before the address: the most any of its names' {@code __pfx_} labels marks.
     * The padding belongs to the address, not to a name: an alias without a label of its own (the
     * {@code __do_sys_*} and {@code __ia32_sys_*} names of a {@code __x64_sys_*} syscall) shares the
     * labelled name's bytes. Written while the kernel boots, before the kernel is published.
     */
    private int paddingBytes;
    /** Accessed through {@link #OPCODE} only. */
    @SuppressWarnings("unused")
    private int opcode = NOP;
    /** Accessed through {@link #OPERAND} only. */
    @SuppressWarnings("unused")
    private CallTarget operand = NOP_TAIL;
    /** Accessed through {@link #BODY} only. */
    @SuppressWarnings("unused")
    private FunctionBody body;
    /** The instruction at the head of the padding, a {@link PaddingInsn} word. Accessed through {@link #PADDING} only. */
    @SuppressWarnings("unused")
    private long padding = PaddingInsn.NOP_WORD;

    EntrySite(long ip, FunctionBody body) {
        this.ip = ip;
        this.body = body;
    }

    void setFunction(KernelFunction f) {
        if (function == null) {
            function = f;
        }
        paddingBytes = Math.max(paddingBytes, f.imageFunction().paddingBytes());
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
     * The instruction at the head of the padding before the function, a {@link PaddingInsn} word.
     * Acquire pairs with the release in {@link #pokePadding}: a reader that finds
     * {@code mov $index, %eax} also sees what the writer stored before the poke, the {@code kfunc_md}
     * at that index. One load reads the opcode and the immediate together, so a reader never sees the
     * opcode of one poke with the index of another; the kernel's reader makes two loads (the byte,
     * then the {@code u32}), which this model does not examine.
     */
    public long padding() {
        return (long) PADDING.getAcquire(this);
    }

    /**
     * Bytes of padding before the function: the most that the {@code __pfx_} label of any name at
     * this address marks, as the image records them.
     */
    public int paddingBytes() {
        return paddingBytes;
    }

    /**
     * Checks that {@code insn} may be written into this site's padding, writing nothing.
     *
     * @throws KernelException EINVAL naming the function if it has fewer than
     *                         {@link PaddingInsn#PADDING_BYTES} bytes of padding (there is nowhere to
     *                         write), or if {@code insn} is neither the {@code nop}s nor a
     *                         {@code mov $imm32, %eax}
     */
    public void checkPadding(long insn) {
        if (paddingBytes() < PaddingInsn.PADDING_BYTES) {
            throw new KernelException(Errno.EINVAL, function.name() + " has " + paddingBytes()
                    + " bytes of padding, fewer than the " + PaddingInsn.PADDING_BYTES + " an instruction there needs");
        }
        if (!PaddingInsn.isValid(insn)) {
            throw new KernelException(Errno.EINVAL, String.format("%#x is not an instruction for the padding of %s",
                    insn, function.name()));
        }
    }

    /**
     * Writes the instruction at the head of the padding, as one {@code text_poke} of its five bytes;
     * the caller (the text-patching layer, under {@code text_mutex}) syncs the cores after it.
     * Release orders the writer's earlier stores (the md the index names) before the new word.
     *
     * @throws KernelException EINVAL as {@link #checkPadding}
     */
    public void pokePadding(long insn) {
        checkPadding(insn);
        PADDING.setRelease(this, insn);
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
