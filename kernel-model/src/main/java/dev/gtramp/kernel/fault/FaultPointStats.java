package dev.gtramp.kernel.fault;

/**
 * One line of {@link FaultInjector#points()}: what a {@code /sys/kernel/debug/<attr>/} directory
 * shows, plus the counts the kernel only prints with {@code verbose}.
 *
 * @param name     the point's name, e.g. {@code "alloc:kfunc_md"}
 * @param calls    calls made while armed
 * @param failures failures injected
 * @param spec     the spec it is armed with, or null when disarmed
 */
public record FaultPointStats(String name, long calls, long failures, FaultSpec spec) {
    public boolean armed() {
        return spec != null;
    }

    @Override
    public String toString() {
        return name + " calls=" + calls + " failures=" + failures + (spec == null ? " disarmed" : " armed " + spec);
    }
}
