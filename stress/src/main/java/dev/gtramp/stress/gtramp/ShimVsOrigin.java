package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.KernelTrial;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.TracingMultiOpts;
import dev.gtramp.trampoline.TrampolinesConfig;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>A multi link joining and leaving a function's trampoline while a call sleeps in the origin:
 * every image the multi path replaces outlives the calls inside it.</b>
 *
 * <pre>
 *   cpu 0                                    writer
 *   r = f()                                  wait until cpu 0 is inside f's body
 *     image 1 (fexit R): __bpf_tramp_enter    attach fexit.multi M to f: M joins f's trampoline
 *       (percpu_ref_get)                        (global trampoline: as a shim of f's kfunc_md;
 *     origin call: f's body                     tracing_multi: as a node), image 2 (R, M), one
 *       schedule(): sleeps until released       update_ftrace_direct_mod; image 1 retired
 *     back in image 1 (ip_after_call)         run the callbacks, as their threads would
 *     __bpf_tramp_exit (percpu_ref_put)       close M: image 3 (R), one _mod; image 2 retired
 *                                             run the callbacks; release cpu 0
 *                                            arbiter: one more call; r3 = KASAN reports
 * </pre>
 *
 * {@code f} has a regular fexit program R, so its trampoline's image makes the origin call, holding
 * the image's {@code percpu_ref} from {@code __bpf_tramp_enter} to {@code __bpf_tramp_exit}. CPU 0's
 * call sleeps in the origin ({@code Cpu.schedule}, a quiescent state for RCU and tasks RCU). The
 * writer attaches a tracing multi link M to {@code f}, which joins the trampoline rather than the
 * global caller (the global trampoline's mixing, {@code bpf_gtrampoline_link_shim}; the per-function
 * design's {@code bpf_trampoline_multi_attach}), closes it again, so that f is R's alone, and drives
 * every callback both updates queued, all while CPU 0 sleeps in image 1.
 *
 * <p>The hazard: the multi code path's own retire of the image it replaced. It must be
 * {@code bpf_tramp_image_put}, whose {@code percpu_ref} kill waits for the sleeping call; the free
 * of an image no site ever called, which the same code uses to roll back a failed attach, frees
 * image 1 under the call, which returns into freed code.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1} is CPU 0's call: 0 it returned the body's value and
 * ran no M (image 1 has none), 1 it returned into a freed image, 2 it failed otherwise or ran M,
 * 3 the writer never saw it inside the origin; {@code r2}: 0 the arbiter's call after it ran R once
 * and M never (f is R's alone again), 1 otherwise; {@code r3}: 1 if KASAN reported anything by the
 * end of the trial.
 * <ul>
 *   <li>{@code 0, 0, 0}: image 1 outlived the call; M joined and left; f is R's again;</li>
 *   <li>{@code 1, *, 1}: FORBIDDEN, the call returned into an image the multi path freed;</li>
 *   <li>{@code 0, 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * On the global trampoline ({@link GtrampShimVsOriginTest}) paired with
 * {@link GtrampShimRetireAsUnpublishedBroken}, on per-function trampolines
 * ({@link TrampMultiJoinVsOriginTest}) with {@link TrampMultiRetireAsUnpublishedBroken}; each must
 * show {@code 1, 0, 1}.
 */
@Description("a multi link joins and leaves f's trampoline while a call sleeps in the origin of the old image")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "the old image outlived the call; f is R's alone again")
@Outcome(id = "0, 0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*, 1", expect = FORBIDDEN, desc = "use after free: the call returned into a replaced image freed at once")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "M run from the old image, a lost R, a fault, or no sleeping call")
public abstract class ShimVsOrigin extends KernelTrial {
    private static final long BODY = 7;

    private final BpfProg m;
    /** Runs of R and M in the current call; written by the calling thread only. */
    private int rRuns;
    private int mRuns;
    /** Set by the writer if CPU 0 never entered the origin; the arbiter reports it as {@code r1 = 3}. */
    private volatile boolean missed;

    ShimVsOrigin(Set<UnsafeVariant> unsafe, TrampolinesConfig config) {
        super(unsafe, RcuFlavor.QSBR, config);
        trampolines.attach(prog("fexit_r", BpfAttachType.TRACE_FEXIT, ctx -> {
            rRuns++;
            return 0;
        }), f);
        m = prog("fexit_m", BpfAttachType.TRACE_FEXIT_MULTI, ctx -> {
            mRuns++;
            return 0;
        });
        settle();
        sleepingBody(BODY);
        setupDone();
    }

    /** CPU 0: one call of {@code f}, which sleeps in the origin. */
    final void call(III_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            mRuns = 0;
            long v = callOnce(cpu);
            r.r1 = v == FREED ? 1 : v == BODY && mRuns == 0 ? 0 : 2;
        }
    }

    /** The writer: M joins f's trampoline and leaves it while CPU 0 sleeps in image 1. */
    final void write() {
        missed = !whileInBody(() -> {
            BpfTracingMultiLink link = track(trampolines.attachMulti(m, null,
                    TracingMultiOpts.create().names(List.of(f.name()))));
            runCallbacks();
            link.close();
            runCallbacks();
        });
    }

    final void check(III_Result r) {
        if (missed) {
            r.r1 = 3;
        }
        settle();
        f.setBody(frame -> BODY);
        rRuns = 0;
        mRuns = 0;
        long v;
        try (Cpu cpu = kernel.bindCpu(0)) {
            v = callOnce(cpu);
        }
        r.r2 = v == BODY && rRuns == 1 && mRuns == 0 ? 0 : 1;
        r.r3 = finish();
        if (residue(r, "0, 0, 0")) {
            r.r3 = Residue.VALUE;
        }
    }

    /** The callbacks an update queued, as their threads would run them while CPU 0 sleeps. */
    private void runCallbacks() {
        kernel.tasksRcu().runPendingCallbacks();
        kernel.rcu().runPendingCallbacks();
        kernel.tasksRcu().runPendingCallbacks();
    }
}
