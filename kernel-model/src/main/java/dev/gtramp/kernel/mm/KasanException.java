package dev.gtramp.kernel.mm;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * A memory-safety bug the {@link Allocator} detected and was configured to stop on
 * ({@link AllocatorConfig#panicOnViolation()}): the model's KASAN panic. Its errno is
 * {@link Errno#EFAULT}; its message is the report's title, and {@link #report()} has the rest.
 */
public final class KasanException extends KernelException {
    private static final long serialVersionUID = 1L;

    private final transient KasanReport report;

    public KasanException(KasanReport report) {
        super(Errno.EFAULT, report.title());
        this.report = report;
    }

    public KasanReport report() {
        return report;
    }
}
