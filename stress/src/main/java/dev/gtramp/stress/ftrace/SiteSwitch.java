package dev.gtramp.stress.ftrace;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * What the tests of a caller against an update that switches {@code f}'s target share: CPU 0's
 * calls before, during and after the update, and what they executed.
 *
 * <p>CPU 0 records {@code r1}, what its calls saw while the update ran (from before it started to
 * the moment CPU 0 saw it return): {@link #ONLY_OLD}, {@link #OLD_THEN_NEW} or {@link #ONLY_NEW};
 * or the first thing no such sequence allows, at which it stops: {@link #BACK} (the old target after
 * the new one), {@link FtraceTrial#TORN}, {@link FtraceTrial#OTHER} (neither target, or another
 * fault), or {@link #STUCK}. Then {@code r2}, what one call made after the update returned executed:
 * {@link #NEW}, {@link #OLD}, {@link FtraceTrial#TORN} or {@link FtraceTrial#OTHER}; {@link #STUCK}
 * if the update did not return within {@link dev.gtramp.stress.TrialDomain#PATIENCE_NANOS}.
 */
abstract class SiteSwitch extends FtraceTrial {
    /** {@code r1}: every call ran the old target. */
    static final int ONLY_OLD = 0;
    /** {@code r1}: the calls ran the old target, then the new one. */
    static final int OLD_THEN_NEW = 1;
    /** {@code r1}: every call ran the new target. */
    static final int ONLY_NEW = 2;
    /** {@code r1}: a call ran the old target after one had run the new one. */
    static final int BACK = 3;
    /** {@code r2}: the call ran the old target. */
    static final int OLD = 0;
    /** {@code r2}: the call ran the new target. */
    static final int NEW = 1;
    /** The update did not return within the patience. */
    static final int STUCK = 7;

    /** What a call returns when it runs the old target, and the new one. */
    private final long oldResult;
    private final long newResult;
    // Written and read only by CPU 0's actor:
    private boolean sawOld;
    private boolean sawNew;
    private int fault;

    SiteSwitch(KernelImage image, Set<UnsafeVariant> unsafe, long oldResult, long newResult) {
        super(image, unsafe, 0);
        this.oldResult = oldResult;
        this.newResult = newResult;
    }

    /** The update under test, on the writer's thread (which binds no CPU). */
    abstract void update();

    /** CPU 0: calls {@code f} until the update is over, then once more. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            boolean over = callWhileUpdating(cpu, this::during);
            if (fault != 0) {
                r.r1 = fault;
            } else if (!over) {
                r.r1 = STUCK;
            } else {
                r.r1 = sawNew ? (sawOld ? OLD_THEN_NEW : ONLY_NEW) : ONLY_OLD;
            }
            r.r2 = over ? after(callOnce(cpu)) : STUCK;
        }
    }

    private boolean during(long result) {
        if (result == oldResult) {
            if (sawNew) {
                fault = BACK;
                return false;
            }
            sawOld = true;
            return true;
        }
        if (result == newResult) {
            sawNew = true;
            return true;
        }
        fault = result == TORN ? TORN : OTHER;
        return false;
    }

    private int after(long result) {
        if (result == newResult) {
            return NEW;
        }
        if (result == oldResult) {
            return OLD;
        }
        return result == TORN ? TORN : OTHER;
    }

    /** The writer: waits for CPU 0's calls, then updates. */
    final void write() {
        awaitCaller();
        try {
            update();
        } finally {
            updated = true;
        }
    }

    /** The arbiter: the teardown and the residue check ({@link #finish}); {@code r2} is {@link Residue#VALUE} for residue. */
    final void check(II_Result r) {
        finish();
        if (residue(r, "0, 1", "1, 1", "2, 1")) {
            r.r2 = Residue.VALUE;
        }
    }
}
