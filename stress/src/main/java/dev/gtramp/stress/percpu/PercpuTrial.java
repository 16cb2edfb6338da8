package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.percpu.PerCpuArena;
import dev.gtramp.kernel.percpu.PercpuRef;
import dev.gtramp.kernel.percpu.PercpuRefs;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.stress.TrialCpu;
import dev.gtramp.stress.TrialDomain;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the percpu_ref tests share: one live {@code percpu_ref} of a trial, its RCU domain (QSBR, the
 * kernel's default flavor, unless a test asks for the general one; the switch to atomic mode waits
 * for its grace period), a two-CPU
 * per-CPU arena, CPUs 0 and 1, and a release function that counts its calls.
 *
 * <p>The kill's {@code call_rcu} callback (the switch to atomic mode) runs when an actor calls
 * {@link TrialDomain#runPendingCallbacks()}; the arbiters run whatever is left with
 * {@code rcu_barrier()}. A put that takes the count below zero throws; actors catch that and report
 * it instead of failing the trial with an exception.
 *
 * <p><b>Residue.</b> A body's constructor ends with {@link #setupDone}, the baseline of its
 * {@link Residue} (the ref's own per-CPU counter is in it); after the arbiter's barrier nothing may
 * be left ({@link #residue}): no per-CPU variable beyond the baseline, no callback, no warning.
 */
abstract class PercpuTrial {
    final TrialDomain domain;
    final PercpuRef ref;
    final TrialCpu cpu0;
    final TrialCpu cpu1;
    final AtomicInteger releases = new AtomicInteger();
    /** Set when any operation threw (a put below zero, or a kill that found the count broken). */
    volatile boolean error;

    /** The baseline, taken by {@link #setupDone}. */
    private Residue residue;
    private final PerCpuArena arena = new PerCpuArena(2);

    PercpuTrial(Set<UnsafeVariant> unsafe) {
        this(RcuFlavor.QSBR, unsafe);
    }

    /** A trial on {@code flavor}: QSBR or GENERAL, whose grace period the switch to atomic mode then waits for. */
    PercpuTrial(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        this(flavor, unsafe, Set.of());
    }

    /** A trial whose ref is initialised with {@code init} ({@code PERCPU_REF_ALLOW_REINIT} for a resurrect). */
    PercpuTrial(RcuFlavor flavor, Set<UnsafeVariant> unsafe, Set<PercpuRefs.InitFlag> init) {
        domain = TrialDomain.of(flavor, unsafe);
        PercpuRefs refs = new PercpuRefs(domain.rcu(), arena, domain.log(), unsafe);
        ref = refs.init(r -> releases.incrementAndGet(), init);
        cpu0 = domain.cpu(0, "cpu 0");
        cpu1 = domain.cpu(1, "cpu 1");
    }

    /** Takes a reference on {@code cpu} before the trial, for the actor that will run there. */
    final void getBeforeTrial(TrialCpu cpu) {
        cpu.bind();
        ref.get(cpu);
        cpu.unbind();
    }

    final boolean released() {
        return releases.get() > 0;
    }

    /** The end of the body's setup: the baseline its residue is measured against. */
    final void setupDone() {
        residue = Residue.of(domain, arena.allocator());
    }

    /**
     * After {@link #releasesAfterCallbacks}: whether {@code outcome} is one of {@code acceptable}
     * and the trial left residue; the caller then puts {@link Residue#VALUE} in its last column.
     */
    final boolean residue(Object outcome, String... acceptable) {
        return Residue.accepted(outcome, acceptable) && residue.found();
    }

    /** After every callback ran: the release count, or -1 if an operation threw. */
    final int releasesAfterCallbacks() {
        domain.rcu().barrier();
        return error ? -1 : releases.get();
    }
}
