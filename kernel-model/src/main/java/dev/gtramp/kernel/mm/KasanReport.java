package dev.gtramp.kernel.mm;

import java.util.List;
import java.util.Objects;

/**
 * One detected memory-safety bug, with what {@code kasan_report()} prints: the kind of bug and
 * where it happened, the object's type and size, the thread and stack of the bad access, and the
 * thread (and, if recorded, the stack) that freed the object.
 *
 * @param kind        what went wrong
 * @param type        the object's type, e.g. {@code "kfunc_md"}
 * @param size        the object's size in bytes
 * @param where       the access site, e.g. {@code "KfuncMd.get"} or {@code "kfree"}
 * @param detail      the rest of the title, e.g. {@code "kfunc_md object freed by thread worker-1"}
 * @param thread      the thread that made the bad access
 * @param accessStack the top frames of the bad access, innermost first
 * @param freeThread  the thread that freed the object, or null if it was never freed
 * @param freeStack   the top frames of that free, innermost first; empty unless
 *                    {@link AllocatorConfig#recordFreeStacks()} was on when it was freed
 */
public record KasanReport(Kind kind, String type, long size, String where, String detail, String thread,
                          List<StackTraceElement> accessStack, String freeThread, List<StackTraceElement> freeStack) {
    /** The bug classes, named as KASAN's report titles name them. */
    public enum Kind {
        /** An access to a freed object. */
        USE_AFTER_FREE("use-after-free"),
        /** A second free of the same object ({@code kasan_report_invalid_free}, {@code KASAN_REPORT_DOUBLE_FREE}). */
        DOUBLE_FREE("double-free"),
        /** A free of something that is not a live object of this kernel, or not its start. */
        INVALID_FREE("invalid-free"),
        /** An access to an object that was never allocated. */
        INVALID_ACCESS("invalid-access");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The bug class as the report title spells it, e.g. {@code "use-after-free"}. */
        public String label() {
            return label;
        }
    }

    public KasanReport {
        Objects.requireNonNull(kind, "kind");
        accessStack = List.copyOf(accessStack);
        freeStack = List.copyOf(freeStack);
    }

    /** The first line, e.g. {@code "BUG: KASAN: use-after-free in KfuncMd.get: kfunc_md object freed by thread T"}. */
    public String title() {
        return "BUG: KASAN: " + kind.label() + " in " + where + ": " + detail;
    }

    /** The whole report as the kernel log shows it: the title, the access, the free. */
    public String text() {
        StringBuilder sb = new StringBuilder(title()).append('\n');
        sb.append(kind == Kind.DOUBLE_FREE || kind == Kind.INVALID_FREE ? "Free" : "Access")
                .append(" of ").append(type).append(" (").append(size).append(" bytes) by thread ").append(thread).append(":\n");
        appendStack(sb, accessStack);
        if (freeThread != null) {
            sb.append("Freed by thread ").append(freeThread).append(':');
            if (freeStack.isEmpty()) {
                sb.append(" (stack not recorded; enable AllocatorConfig.recordFreeStacks)\n");
            } else {
                sb.append('\n');
                appendStack(sb, freeStack);
            }
        }
        return sb.toString();
    }

    private static void appendStack(StringBuilder sb, List<StackTraceElement> stack) {
        for (StackTraceElement e : stack) {
            sb.append(" ").append(e).append('\n');
        }
    }

    @Override
    public String toString() {
        return title();
    }
}
