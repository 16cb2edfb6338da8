package dev.gtramp.kernel.mm;

/**
 * How an {@link Allocator} reacts to the bugs it detects. Immutable.
 *
 * @param panicOnViolation whether a detected use-after-free, double free or invalid free throws a
 *                         {@link KasanException} after it is reported, as {@code kasan.fault=panic}
 *                         (or {@code panic_on_warn}) stops the kernel; when false the report is only
 *                         logged and recorded and the bad access goes on, as with
 *                         {@code kasan.fault=report}
 * @param recordFreeStacks whether each free records the freeing stack, so that a later report shows
 *                         where the object was freed as KASAN's "Freed by task" does; off by default
 *                         because it costs a stack walk per free
 */
public record AllocatorConfig(boolean panicOnViolation, boolean recordFreeStacks) {
    /** Throw on a violation; record no free stacks. */
    public static AllocatorConfig defaults() {
        return new AllocatorConfig(true, false);
    }

    public AllocatorConfig withPanicOnViolation(boolean panic) {
        return new AllocatorConfig(panic, recordFreeStacks);
    }

    public AllocatorConfig withRecordFreeStacks(boolean record) {
        return new AllocatorConfig(panicOnViolation, record);
    }
}
