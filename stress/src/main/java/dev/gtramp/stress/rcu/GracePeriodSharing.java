package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.RcuObject;
import dev.gtramp.stress.RcuPointer;
import dev.gtramp.stress.Residue;
import dev.gtramp.stress.TrialCpu;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Grace-period sharing: a {@code synchronize_rcu} caller waits for a grace period that started
 * after its call, never only for one already under way.</b>
 *
 * <pre>
 *   early caller (cpu 0)                    late caller (cpu 1)
 *   synchronize_rcu()   [G1]                wait until G1 waits for reader x (a stall warning)
 *     waits for reader x                    reader y: rcu_read_lock(); p = rcu_dereference(gp)
 *                                           reader y is preempted inside its section
 *                                           RCU_INIT_POINTER(gp, NULL)
 *                                           reader x: rcu_read_unlock()
 *                                           synchronize_rcu()   [must run G2, not share G1]
 *   reader y resumes here, holding p        kfree(old)
 *   (hold p)  r1 = p-&gt;freed
 *   reader y: rcu_read_unlock()
 *                                           arbiter: r2 = grace periods completed
 * </pre>
 *
 * The general flavor ({@code rcu_preempt}), whose readers may be preempted inside their sections,
 * with two readers besides the actors. Reader x has been in its section since before the trial,
 * which keeps the early caller's grace period G1 waiting. Reader y enters its section while G1 is
 * under way (so G1 rightly ignores it), loads {@code gp}, and is preempted. The late caller then
 * unpublishes object 1, lets reader x leave, and calls {@code synchronize_rcu} while G1 is still in
 * progress. Reader y resumes on the early caller's CPU once G1 is over.
 *
 * <p>The hazard: concurrent callers share grace periods, but a caller may only rely on one that
 * starts after its call ({@code rcu_seq_snap}). Sharing G1, which began before the unpublish and
 * ignored reader y, lets the late caller free object 1 while reader y still holds it. The early
 * caller keeps reader y in its section until object 1 is freed or a second grace period is seen
 * waiting for reader y (the second stall warning; the domain's stall timeout is 1 ns), so the outcome
 * does not depend on how long anything takes.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 2}: the late caller waited for G2, which waited for reader y;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, the late caller shared G1 and freed object 1 under reader y;</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once every callback had
 *       run (callbacks or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN ({@code 2, *}: reader y waited 5 s for neither; {@code 3, *}: G1 was
 *       never seen waiting for reader x).</li>
 * </ul>
 * A broken snapshot shows only if the late caller takes it before G1 has noticed that reader x left:
 * G1 polls every 10 µs to 1 ms, the snapshot comes within a microsecond, so nearly every trial.
 */
@Description("synchronize_rcu callers never rely on a grace period that started before their call")
@Outcome(id = "0, 2", expect = ACCEPTABLE, desc = "the late caller waited for a grace period of its own")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "the late caller shared a started grace period: use after free")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a grace period too few or too many, or stuck")
public abstract class GracePeriodSharing {
    final TrialDomain domain;
    /** The baseline, at the end of the setup. */
    private final Residue residue;
    /** A long reader: in its section from before the trial until the late caller ends it. */
    final TrialCpu readerX;
    /** Enters its section during G1 and is preempted with object 1 in hand. */
    final TrialCpu readerY;
    final RcuPointer gp = new RcuPointer();
    final RcuObject old = new RcuObject(1);
    /** Reader y's pointer, handed from the late caller's CPU to the early caller's. */
    volatile RcuObject handedOver;
    /** Set when the late caller did not see G1 wait for reader x, and so did not start reader y. */
    volatile boolean gaveUp;

    GracePeriodSharing(Set<UnsafeVariant> unsafe) {
        domain = TrialDomain.of(RcuFlavor.GENERAL, unsafe);
        readerX = domain.cpu(0, "reader x");
        readerY = domain.cpu(1, "reader y");
        readerX.readLock();
        gp.assign(old);
        residue = Residue.of(domain, null);
    }

    /** The early caller: G1; then reader y resumes here and runs to the end of its section. */
    final void runEarly(II_Result r) {
        domain.synchronize();
        RcuObject p = awaitHandover();
        if (p == null) {
            r.r1 = 3;
            return;
        }
        readerY.claim();
        boolean settled = domain.linger(p::isFreed, 2);
        r.r1 = !settled ? 2 : p.isFreed() ? 1 : 0;
        readerY.readUnlock();
        readerY.disown();
    }

    /** The late caller. */
    final void runLate() {
        if (!domain.linger(() -> false, 1)) {
            gaveUp = true;
            leaveX();
            return;
        }
        readerY.claim();
        readerY.readLock();
        RcuObject p = gp.dereference();
        readerY.disown();
        handedOver = p;
        gp.clear();
        leaveX();
        domain.synchronize();
        old.free();
    }

    final void count(II_Result r) {
        r.r2 = (int) domain.gracePeriods();
        if (Residue.accepted(r, "0, 2") && residue.found()) {
            r.r2 = Residue.VALUE;
        }
    }

    private void leaveX() {
        readerX.claim();
        readerX.readUnlock();
        readerX.disown();
    }

    private RcuObject awaitHandover() {
        long deadline = System.nanoTime() + TrialDomain.PATIENCE_NANOS;
        while (true) {
            RcuObject p = handedOver;
            if (p != null || gaveUp || System.nanoTime() - deadline > 0) {
                return p;
            }
            Thread.onSpinWait();
        }
    }
}
