package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.RcuObject;
import dev.gtramp.stress.RcuPointer;
import dev.gtramp.stress.TrialCpu;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * What the tests of a reader against an update share: a trial's domain, the reader's CPU, and a
 * pointer {@code gp} that publishes object 1.
 *
 * <p>The reader records {@code r1}, the id of the object it found (0 if {@code gp} was already NULL),
 * and {@code r2}, whether that object was freed while the reader still held it: 0 no, 1 yes (the
 * hazard), 2 the reader gave up waiting (neither a free nor a grace period waiting for it within
 * {@link TrialDomain#PATIENCE_NANOS}). The reader holds the object until it is freed or a grace period
 * is seen waiting for it ({@link TrialDomain#linger}), so a free that happens while it holds the
 * object is always observed.
 */
abstract class ReadSide {
    final TrialDomain domain;
    final TrialCpu cpu;
    final RcuPointer gp = new RcuPointer();
    final RcuObject old = new RcuObject(1);

    /**
     * @param onlineBeforeTrial whether the reader's CPU is online before the trial: a QSBR reader's
     *                          section is then open when the trial starts (a no-op for the general flavor)
     */
    ReadSide(RcuFlavor flavor, Set<UnsafeVariant> unsafe, boolean onlineBeforeTrial) {
        domain = TrialDomain.of(flavor, unsafe);
        cpu = domain.cpu(0, "cpu 0");
        if (onlineBeforeTrial) {
            cpu.rcu().online();
        }
        gp.assign(old);
    }

    /**
     * The reader of a CPU that is already online: {@code rcu_read_lock(); p = rcu_dereference(gp)},
     * hold and look at {@code p}, {@code rcu_read_unlock()} and a quiescent state; then the CPU goes
     * offline, so that no grace period waits for it after the actor.
     */
    final void readOnline(II_Result r) {
        cpu.claim();
        cpu.readLock();
        dereferenceAndHold(r);
        cpu.readUnlock();
        cpu.unbind();
    }

    /** Inside a read-side section: {@code p = rcu_dereference(gp)}, then hold {@code p} and look at it. */
    final void dereferenceAndHold(II_Result r) {
        RcuObject p = gp.dereference();
        if (p != null) {
            r.r1 = p.id();
            boolean settled = domain.linger(p::isFreed, 1);
            r.r2 = !settled ? 2 : p.isFreed() ? 1 : 0;
        }
    }
}
