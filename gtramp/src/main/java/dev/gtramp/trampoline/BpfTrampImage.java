package dev.gtramp.trampoline;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTraceCtx;
import dev.gtramp.kernel.mm.KernelObject;
import dev.gtramp.kernel.percpu.PercpuRef;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct bpf_tramp_image}: the code {@code arch_prepare_bpf_trampoline} generates for one
 * set of programs, immutable once built. A change to a trampoline's programs builds a new image and
 * swaps the call site's target to it; the old one is retired with {@code bpf_tramp_image_put}
 * ({@code TrampImages.put}).
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
 *     NOP that {@code bpf_tramp_image_put} patches into a jump to {@code ip_epilogue};</li>
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
    /**
     * {@code BPF_TRAMP_F_MIX}: a trampoline flag. The trampoline serves a function whose
     * {@code kfunc_md} has programs, carrying them as shim links; the function came from, or goes
     * back to, {@code bpf_global_caller}, so registering and unregistering are
     * {@code update_ftrace_direct_mod}s of its entry in {@code direct_ops}.
     */
    static final int F_MIX = 1 << 3;

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
    /**
     * The program lists: a program and its cookie per slot, {@code count} slots used. Filled by the
     * constructor, before the image is published (the call site's release store), and never changed
     * after, except by {@link UnsafeVariant#TRAMP_IMAGE_UPDATE_IN_PLACE}'s {@link #rewriteInPlace},
     * whose plain stores race with running calls on purpose.
     */
    private final Slots fentry;
    private final Slots modifyReturn;
    private final Slots fexit;
    /** {@code im->pcref}: held by every call that is between {@code __bpf_tramp_enter} and {@code __bpf_tramp_exit}. */
    final PercpuRef pcref;
    /**
     * Whether {@code ip_after_call} has been patched into a jump to {@code ip_epilogue}. Read opaque
     * after the origin returns: like an instruction fetch, it needs no ordering, only a fresh value;
     * the image stays live for the reader through {@link #pcref}.
     */
    @SuppressWarnings("unused")
    private boolean afterCallJumps;

    BpfTrampImage(TrampImages owner, String name, int nrArgs, int flags, List<TrampNode> fentry,
                  List<TrampNode> modifyReturn, List<TrampNode> fexit) {
        super("bpf_tramp_image", 4096);
        this.name = name;
        this.nrArgs = nrArgs;
        this.flags = flags;
        int capacity = owner.updatesInPlace() ? BpfTrampoline.BPF_MAX_TRAMP_LINKS : 0;
        this.fentry = new Slots(fentry, capacity);
        this.modifyReturn = new Slots(modifyReturn, capacity);
        this.fexit = new Slots(fexit, capacity);
        this.pcref = owner.kernel().percpuRefs().init("bpf_tramp_image " + name, ref -> owner.released(this));
    }

    int flags() {
        return flags;
    }

    boolean callsOrigin() {
        return (flags & F_CALL_ORIG) != 0;
    }

    /** The programs in the order the image runs them, for tests and messages. */
    List<String> programOrder() {
        List<String> out = new ArrayList<>();
        fentry.describe("fentry:", out);
        modifyReturn.describe("fmod_ret:", out);
        fexit.describe("fexit:", out);
        return out;
    }

    @Override
    public long enter(Frame frame) {
        guard();
        BpfTraceCtx ctx = frame.bpfCtx();
        ctx.begin(nrArgs);
        if ((flags & F_CALL_ORIG) == 0) {
            fentry.runAll(ctx);
            return frame.callOrigin();
        }
        Cpu cpu = frame.cpu();
        pcref.get(cpu);
        try {
            fentry.runAll(ctx);
            if (!modifyReturnSkipsOrigin(ctx)) {
                ctx.setReturnValue(frame.callOrigin());
                // Back in the image after the origin: this is where a freed image would be executed.
                guard();
                if ((boolean) AFTER_CALL_JUMPS.getOpaque(this)) {
                    return ctx.returnValue();
                }
            }
            fexit.runAll(ctx);
            return ctx.returnValue();
        } finally {
            // A freed image's ref went with it: the use after free is already reported.
            if (isLive()) {
                pcref.put(cpu);
            }
        }
    }

    private boolean modifyReturnSkipsOrigin(BpfTraceCtx ctx) {
        Slots m = modifyReturn;
        for (int i = 0; i < m.count; i++) {
            long r = m.progs[i].run(ctx, m.cookies[i]);
            ctx.setReturnValue(r);
            if (r != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Broken on purpose ({@link UnsafeVariant#TRAMP_IMAGE_UPDATE_IN_PLACE}): overwrites this image's
     * lists slot by slot, as patching the running code in place would, instead of building a new
     * image. Calls running the image meanwhile see a mix of both lists.
     */
    void rewriteInPlace(List<TrampNode> newFentry, List<TrampNode> newModifyReturn, List<TrampNode> newFexit) {
        fentry.overwrite(newFentry);
        modifyReturn.overwrite(newModifyReturn);
        fexit.overwrite(newFexit);
    }

    /** One program list of the image: programs and cookies by slot. */
    private static final class Slots {
        final BpfProg[] progs;
        final long[] cookies;
        int count;

        Slots(List<TrampNode> nodes, int capacity) {
            int n = nodes.size();
            progs = new BpfProg[Math.max(n, capacity)];
            cookies = new long[progs.length];
            for (int i = 0; i < n; i++) {
                progs[i] = nodes.get(i).prog;
                cookies[i] = nodes.get(i).cookie;
            }
            count = n;
        }

        void runAll(BpfTraceCtx ctx) {
            for (int i = 0; i < count; i++) {
                progs[i].run(ctx, cookies[i]);
            }
        }

        void overwrite(List<TrampNode> nodes) {
            for (int i = 0; i < nodes.size(); i++) {
                progs[i] = nodes.get(i).prog;
                cookies[i] = nodes.get(i).cookie;
            }
            count = nodes.size();
        }

        void describe(String prefix, List<String> out) {
            for (int i = 0; i < count; i++) {
                out.add(prefix + progs[i].name());
            }
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
