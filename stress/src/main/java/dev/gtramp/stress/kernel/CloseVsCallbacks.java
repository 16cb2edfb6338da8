package dev.gtramp.stress.kernel;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code Kernel.close()} racing an operation whose teardown crosses RCU domains: an operation
 * the kernel accepted has its whole chain of callbacks run; none is lost.</b>
 *
 * <pre>
 *   detacher                                    closer
 *   beginOperation (ESHUTDOWN once closed)      Kernel.close():
 *     call_rcu_tasks(step 1)                      refuse new operations, wait for those under way
 *       step 1: call_rcu(step 2)                  drain both domains until no chain has a step left
 *         step 2: call_rcu_tasks(step 3)          close rcu and tasks RCU
 *           step 3: done
 *   end the operation                         arbiter: r2 = steps run, r3 = kernel log errors
 * </pre>
 *
 * The chain is the shape of an fexit image's teardown ({@code bpf_tramp_image_put}:
 * {@code call_rcu_tasks}, then {@code percpu_ref_kill}, whose switch to atomic mode is a
 * {@code call_rcu}, then the release's {@code call_rcu_tasks}). The kernel runs the real callback
 * threads of both domains, started by the first call; each trial boots a kernel of its own.
 *
 * <p>The hazard: closing one domain while the other still has a callback that will queue onto it.
 * Closing RCU and then tasks RCU, each after its own barrier, ends the chain at step 1's
 * {@code call_rcu} ("call_rcu after the domain was closed", a leaked image in the kernel).
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1} 1 if the operation was accepted, 0 if it was
 * refused with ESHUTDOWN; {@code r2} the steps of the chain that ran; {@code r3} 1 if the kernel
 * logged an error.
 * <ul>
 *   <li>{@code 0, 0, 0}: the close came first and refused the operation;</li>
 *   <li>{@code 1, 3, 0}: the operation came first; close ran its whole chain;</li>
 *   <li>{@code 1, [012], *}: FORBIDDEN, the chain of an accepted operation was cut;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once every callback had
 *       run (live objects, callbacks or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link KernelCloseDomainsInTurnBroken}, which must show {@code 1, 1, 1}.
 */
@Description("Kernel.close racing an operation: an accepted operation's callback chain runs whole")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "the close came first and refused the operation")
@Outcome(id = "1, 3, 0", expect = ACCEPTABLE, desc = "the operation came first; close ran its whole chain")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, [012], .*", expect = FORBIDDEN, desc = "the callback chain of an accepted operation was cut")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a stray error, or a refused operation that ran")
public abstract class CloseVsCallbacks {
    private final Kernel kernel;
    private final AtomicInteger steps = new AtomicInteger();
    private volatile boolean accepted;
    /** The baseline: the kernel as booted. */
    private final Residue residue;

    CloseVsCallbacks(Set<UnsafeVariant> unsafe) {
        kernel = Kernel.boot(KernelImage.synthetic(4, 1), KernelConfig.defaults().withUnsafeVariants(unsafe));
        residue = Residue.of(kernel);
    }

    /** The detacher: an operation that queues a chain crossing the domains. */
    final void detach() {
        try (Kernel.Operation op = kernel.beginOperation("detach")) {
            kernel.tasksRcu().call(() -> {
                steps.incrementAndGet();
                kernel.rcu().call(() -> {
                    steps.incrementAndGet();
                    kernel.tasksRcu().call(steps::incrementAndGet);
                });
            });
            accepted = true;
        } catch (KernelException refused) {
            // ESHUTDOWN: the kernel closed first; nothing was queued.
        }
    }

    /** The closer. */
    final void close() {
        kernel.close();
    }

    final void check(III_Result r) {
        kernel.close(); // returns when the closer's close has finished
        r.r1 = accepted ? 1 : 0;
        r.r2 = steps.get();
        r.r3 = kernel.log().entries(e -> e.level() == KernelLog.Level.ERR).isEmpty() ? 0 : 1;
        if (Residue.accepted(r, "0, 0, 0", "1, 3, 0") && residue.found()) {
            r.r3 = Residue.VALUE;
        }
    }
}
