package dev.gtramp.stress.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static dev.gtramp.stress.TrialDomain.await;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code bpf_tramp_image_put}: an image swap while an fexit call is inside its origin never frees
 * the old image under that call.</b>
 *
 * <pre>
 *   cpu 0                                    writer
 *   r = f()                                  wait until cpu 0 is inside f's body
 *     image 1: __bpf_tramp_enter              attach an fentry program to f:
 *       (percpu_ref_get)                        image 2 built, f's site now calls it
 *     origin call: f's body                     bpf_tramp_image_put(image 1):
 *       schedule(): sleeps until released         patch ip_after_call, call_rcu_tasks(kill)
 *     back in image 1 (ip_after_call)         run the callbacks, as their threads would:
 *     __bpf_tramp_exit (percpu_ref_put)         tasks-RCU grace period, percpu_ref_kill,
 *                                               RCU grace period (the switch to atomic),
 *                                               tasks-RCU callbacks again
 *                                             release cpu 0
 *                                            arbiter: r2 = KASAN reports
 * </pre>
 *
 * {@code f} has an fexit program, so its image makes the origin call, holding the image's
 * {@code percpu_ref} from {@code __bpf_tramp_enter} to {@code __bpf_tramp_exit}. CPU 0's call
 * sleeps in the origin ({@code Cpu.schedule}): a voluntary context switch, a quiescent state for
 * tasks RCU and RCU, so neither grace period waits for it. The writer swaps the image and drives
 * every stage of the old image's put while CPU 0 sleeps, then lets it return into the old image.
 *
 * <p>The hazard: the grace periods alone do not cover a call that sleeps inside the origin; only the
 * {@code percpu_ref} does. An image freed after the tasks-RCU grace period without the kill and its
 * wait is freed under the sleeping call, which then returns into freed code (the image's guard
 * reports it as a KASAN use after free).
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1} is CPU 0's call: 0 it returned the body's value, 1 it
 * returned into a freed image, 2 it failed otherwise, 3 the writer never saw it inside the origin;
 * {@code r2} whether KASAN reported anything by the end of the trial.
 * <ul>
 *   <li>{@code 0, 0}: the old image outlived the call and was freed after it;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, the call returned into a freed image;</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link TrampImagePutNoPercpuRefBroken}, which must show {@code 1, 1}.
 */
@Description("image swap while an fexit call sleeps in the origin: the old image outlives the call")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the call returned through the live old image")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free: the call returned into a freed image")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a stray KASAN report, or the call never met the swap")
public abstract class ImageSwapVsOrigin extends TrampolineTrial {
    private static final long BODY = 7;

    /** Set by the writer if CPU 0 never entered the origin; the arbiter reports it as {@code r1 = 3}. */
    private volatile boolean missed;
    private final BpfProg fentry = prog("fentry_new", BpfAttachType.TRACE_FENTRY, ctx -> 0);

    ImageSwapVsOrigin(Set<UnsafeVariant> unsafe) {
        super(unsafe);
        sleepingBody(BODY);
        track(trampolines.attach(prog("fexit_old", BpfAttachType.TRACE_FEXIT, ctx -> 0), f));
        settle();
        setupDone();
    }

    /** CPU 0: one call of {@code f}. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            long v = callOnce(cpu);
            r.r1 = v == BODY ? 0 : v == FREED ? 1 : 2;
        }
    }

    /** The writer: swaps the image while CPU 0 sleeps in the origin and runs the put's callbacks. */
    final void write(II_Result r) {
        missed = !whileInBody(() -> {
            track(trampolines.attach(fentry, f));
            kernel.tasksRcu().runPendingCallbacks();
            kernel.rcu().runPendingCallbacks();
            kernel.tasksRcu().runPendingCallbacks();
        });
    }

    final void check(II_Result r) {
        if (missed) {
            r.r1 = 3;
        }
        r.r2 = finish();
        if (residue(r, "0, 0")) {
            r.r2 = Residue.VALUE;
        }
    }
}
