package dev.gtramp.trampoline;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTraceCtx;
import dev.gtramp.kernel.mm.KernelObject;
import dev.gtramp.kernel.percpu.PercpuRef;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * {@code struct bpf_tramp_image}: the code {@code arch_prepare_bpf_trampoline} generates for one
 * set of programs, immutable once built. A change to a trampoline's programs builds a new image and
 * swaps the call site's target to it; the old one is retired with {@link #put}.
 *
 * <p>The code, in the order x86 emits it ({@link #enter}):
 * <ol>
 * <li>with {@code BPF_TRAMP_F_CALL_ORIG}: {@code __bpf_tramp_enter(im)}, a {@code percpu_ref_get}
 *     of {@link #pcref} that keeps the image alive while the origin call may sleep;</li>
 * <li>each fentry program ({@code invoke_bpf});</li>
 * <li>the return slot cleared, each fmod_ret program with its result stored in the slot; a non-zero
 *     result branches to {@code do_fexit}, skipping the remaining fmod_ret programs and the
 *     function ({@code invoke_bpf_mod_ret});</li>
 * <li>the origin call, its return value stored in the slot, then {@code ip_after_call}: five bytes of
 *     NOP that {@link #put} patches into a jump to {@code ip_epilogue};</li>
 * <li>{@code do_fexit}: each fexit program, seeing the return slot;</li>
 * <li>{@code ip_epilogue}: {@code __bpf_tramp_exit(im)}, the {@code percpu_ref_put}, and return to
 *     the function's caller ({@code BPF_TRAMP_F_SKIP_FRAME}).</li>
 * </ol>
 * Without fexit and fmod_ret programs the image runs the fentry programs and returns into the
 * function ({@code BPF_TRAMP_F_RESTORE_REGS}), which here is running the body.
 *
 * <p>The image is guarded: running it after it was freed is reported as a use after free, both on
 * entry and on the return from the origin call into it.
 */
final class BpfTrampImage extends KernelObject implements CallTarget {
    /** {@code BPF_TRAMP_F_CALL_ORIG}. */
    static final int F_CALL_ORIG = 1;
    /** {@code BPF_TRAMP_F_ORIG_STACK}: the origin call is made for an IPMODIFY user sharing the function. */
    static final int F_ORIG_STACK = 1 << 1;
    /** {@code BPF_TRAMP_F_SHARE_IPMODIFY}: a trampoline flag ({@code tr->flags}), kept with the image flags. */
    static final int F_SHARE_IPMODIFY = 1 << 2;

    private static final VarHandle AFTER_CALL_JUMPS;

    static {
        try {
            AFTER_CALL_JUMPS = MethodHandles.lookup().findVarHandle(BpfTrampImage.class, "afterCallJumps", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final int nrArgs;
    private final int flags;
    private final BpfProg[] fentry;
    private final long[] fentryCookies;
    private final BpfProg[] modifyReturn;
    private final long[] modifyReturnCookies;
    private final BpfProg[] fexit;
    private final long[] fexitCookies;
    /** {@code im->pcref}: held by every call that is between {@code __bpf_tramp_enter} and {@code __bpf_tramp_exit}. */
    final PercpuRef pcref;
    /**
     * Whether {@code ip_after_call} has been patched into a jump to {@code ip_epilogue}. Read opaque
     * after the origin returns: like an instruction fetch, it needs no ordering, only a fresh value;
     * the image stays live for the reader through {@link #pcref}.
     */
    @SuppressWarnings("unused")
    private boolean afterCallJumps;

    BpfTrampImage(Trampolines owner, String name, int nrArgs, int flags, List<TrampNode> fentry,
                  List<TrampNode> modifyReturn, List<TrampNode> fexit) {
        super("bpf_tramp_image", 4096);
        this.name = name;
        this.nrArgs = nrArgs;
        this.flags = flags;
        this.fentry = progs(fentry);
        this.fentryCookies = cookies(fentry);
        this.modifyReturn = progs(modifyReturn);
        this.modifyReturnCookies = cookies(modifyReturn);
        this.fexit = progs(fexit);
        this.fexitCookies = cookies(fexit);
        this.pcref = owner.kernel().percpuRefs().init(ref -> owner.imageReleased(this));
    }

    private static BpfProg[] progs(List<TrampNode> nodes) {
        BpfProg[] a = new BpfProg[nodes.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = nodes.get(i).prog;
        }
        return a;
    }

    private static long[] cookies(List<TrampNode> nodes) {
        long[] a = new long[nodes.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = nodes.get(i).cookie;
        }
        return a;
    }

    int flags() {
        return flags;
    }

    boolean callsOrigin() {
        return (flags & F_CALL_ORIG) != 0;
    }

    /** The programs in the order the image runs them, for tests and messages. */
    List<String> programOrder() {
        List<String> out = new java.util.ArrayList<>();
        for (BpfProg p : fentry) {
            out.add("fentry:" + p.name());
        }
        for (BpfProg p : modifyReturn) {
            out.add("fmod_ret:" + p.name());
        }
        for (BpfProg p : fexit) {
            out.add("fexit:" + p.name());
        }
        return out;
    }

    @Override
    public long enter(Frame frame) {
        guard();
        BpfTraceCtx ctx = frame.bpfCtx();
        ctx.begin(nrArgs);
        if ((flags & F_CALL_ORIG) == 0) {
            runAll(fentry, fentryCookies, ctx);
            return frame.callOrigin();
        }
        Cpu cpu = frame.cpu();
        pcref.get(cpu);
        try {
            runAll(fentry, fentryCookies, ctx);
            if (!modifyReturnSkipsOrigin(ctx)) {
                ctx.setReturnValue(frame.callOrigin());
                // Back in the image after the origin: this is where a freed image would be executed.
                guard();
                if ((boolean) AFTER_CALL_JUMPS.getOpaque(this)) {
                    return ctx.returnValue();
                }
            }
            runAll(fexit, fexitCookies, ctx);
            return ctx.returnValue();
        } finally {
            pcref.put(cpu);
        }
    }

    private boolean modifyReturnSkipsOrigin(BpfTraceCtx ctx) {
        BpfProg[] progs = modifyReturn;
        for (int i = 0; i < progs.length; i++) {
            long r = progs[i].run(ctx, modifyReturnCookies[i]);
            ctx.setReturnValue(r);
            if (r != 0) {
                return true;
            }
        }
        return false;
    }

    private static void runAll(BpfProg[] progs, long[] cookies, BpfTraceCtx ctx) {
        for (int i = 0; i < progs.length; i++) {
            progs[i].run(ctx, cookies[i]);
        }
    }

    /** {@code bpf_arch_text_poke(im->ip_after_call, BPF_MOD_JUMP, NULL, im->ip_epilogue)}. */
    void patchAfterCallToEpilogue() {
        AFTER_CALL_JUMPS.setOpaque(this, true);
    }

    @Override
    public String toString() {
        return "bpf_tramp_image(" + name + ", " + programOrder() + ")";
    }
}
