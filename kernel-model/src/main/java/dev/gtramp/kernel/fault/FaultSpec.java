package dev.gtramp.kernel.fault;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * When an armed {@link FaultPoint} fails: the knobs of the kernel's {@code struct fault_attr}
 * ({@code lib/fault-inject.c}) that make sense without a task or a stack filter. Immutable; derive
 * variants with the {@code with...} methods.
 *
 * <p>A call to an armed point is numbered {@code k = 1, 2, ...} from the moment it was armed and
 * fails when all of these hold, checked in the order {@code should_fail()} checks them:
 * <ol>
 *   <li>{@code k > skip}: the first {@code skip} calls pass (the role of {@code fault_attr.space},
 *       counted in calls rather than bytes);</li>
 *   <li>{@code (k - skip) % interval == 0} ({@code fault_attr.interval});</li>
 *   <li>a draw in {@code [0, 1)} below {@code probability}; the draw is a pure function of
 *       {@code seed} and {@code k}, so the same seed fails the same call numbers on every run
 *       ({@code fault_attr.probability}, which the kernel gives in percent and draws from
 *       {@code get_random_u32_below(100)});</li>
 *   <li>fewer than {@code times} calls have failed, unless {@code times} is {@link #UNLIMITED}
 *       ({@code fault_attr.times}, where {@code -1} also means no limit).</li>
 * </ol>
 *
 * @param probability the chance that an eligible call fails, in {@code [0, 1]}
 * @param seed        the seed of the reproducible draw; irrelevant when probability is 0 or 1
 * @param interval    only every {@code interval}-th call after the skipped ones is eligible; at least 1
 * @param times       the most failures, or {@link #UNLIMITED}
 * @param skip        how many calls pass before any may fail; at least 0
 */
public record FaultSpec(double probability, long seed, long interval, long times, long skip) {
    /** {@link #times()} for no limit, as {@code fault_attr.times = -1}. */
    public static final long UNLIMITED = -1;

    public FaultSpec {
        if (!(probability >= 0 && probability <= 1)) {
            throw new KernelException(Errno.EINVAL, "fault probability " + probability + " outside [0, 1]");
        }
        if (interval < 1) {
            throw new KernelException(Errno.EINVAL, "fault interval " + interval + " < 1");
        }
        if (times < UNLIMITED) {
            throw new KernelException(Errno.EINVAL, "fault times " + times + " < -1");
        }
        if (skip < 0) {
            throw new KernelException(Errno.EINVAL, "fault skip " + skip + " < 0");
        }
    }

    /** Fails every call. */
    public static FaultSpec always() {
        return new FaultSpec(1, 0, 1, UNLIMITED, 0);
    }

    /**
     * Fails the {@code n}-th call from now, once, like writing {@code n} to
     * {@code /proc/self/fail-nth}. Under concurrency exactly one call fails: the first to claim
     * the single failure among the calls numbered {@code n} or later.
     */
    public static FaultSpec nth(long n) {
        if (n < 1) {
            throw new KernelException(Errno.EINVAL, "fail-nth " + n + " < 1");
        }
        return new FaultSpec(1, 0, 1, 1, n - 1);
    }

    /** Fails each call with probability {@code p}, drawn reproducibly from {@code seed}. */
    public static FaultSpec probability(double p, long seed) {
        return new FaultSpec(p, seed, 1, UNLIMITED, 0);
    }

    /** Never fails: armed only to count the calls that reach the point. */
    public static FaultSpec never() {
        return new FaultSpec(0, 0, 1, UNLIMITED, 0);
    }

    /** This spec limited to {@code n} failures ({@link #UNLIMITED} for none). */
    public FaultSpec withTimes(long n) {
        return new FaultSpec(probability, seed, interval, n, skip);
    }

    /** This spec with only every {@code n}-th call eligible. */
    public FaultSpec withInterval(long n) {
        return new FaultSpec(probability, seed, n, times, skip);
    }

    /** This spec letting the first {@code n} calls pass. */
    public FaultSpec withSkip(long n) {
        return new FaultSpec(probability, seed, interval, times, n);
    }

    /** Whether the draw for call number {@code k} is below the probability. */
    boolean draws(long k) {
        if (probability >= 1) {
            return true;
        }
        if (probability <= 0) {
            return false;
        }
        return unitDraw(seed, k) < probability;
    }

    /** A uniform double in [0, 1) from (seed, k): SplittableRandom's mix of the k-th gamma step. */
    static double unitDraw(long seed, long k) {
        long z = seed + k * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (probability >= 1) {
            sb.append("always");
        } else if (probability <= 0) {
            sb.append("never");
        } else {
            sb.append("probability=").append(probability).append(" seed=").append(seed);
        }
        if (interval > 1) {
            sb.append(" interval=").append(interval);
        }
        if (times != UNLIMITED) {
            sb.append(" times=").append(times);
        }
        if (skip > 0) {
            sb.append(" skip=").append(skip);
        }
        return sb.toString();
    }
}
