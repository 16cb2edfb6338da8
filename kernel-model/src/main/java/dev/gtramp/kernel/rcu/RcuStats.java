package dev.gtramp.kernel.rcu;

import java.time.Duration;

/**
 * A snapshot of an RCU domain's counters.
 *
 * @param flavor              the domain's flavor
 * @param gracePeriods        grace periods completed
 * @param synchronizeCalls    calls of {@code synchronize()} (more calls than grace periods means sharing)
 * @param callbacksQueued     callbacks queued with {@code call()}
 * @param callbacksInvoked    callbacks run
 * @param totalGracePeriod    time spent in grace periods, summed
 * @param maxGracePeriod      the longest grace period
 * @param stallWarnings       stall warnings logged
 */
public record RcuStats(RcuFlavor flavor, long gracePeriods, long synchronizeCalls, long callbacksQueued,
                       long callbacksInvoked, Duration totalGracePeriod, Duration maxGracePeriod,
                       long stallWarnings) {

    /** The mean grace-period latency, or zero before the first grace period. */
    public Duration meanGracePeriod() {
        return gracePeriods == 0 ? Duration.ZERO : totalGracePeriod.dividedBy(gracePeriods);
    }
}
