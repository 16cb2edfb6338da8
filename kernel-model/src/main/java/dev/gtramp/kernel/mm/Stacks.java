package dev.gtramp.kernel.mm;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Stack capture for reports, skipping this package's own frames so that the first frame is the
 * code that made the bad access or the free (KASAN's stacks likewise start at the caller of its
 * hooks once {@code kasan_report} and {@code save_stack} are trimmed). Only on slow paths.
 */
final class Stacks {
    /** How many frames a report keeps, like the depth of a KASAN stack. */
    static final int REPORT_FRAMES = 12;

    private static final Set<String> INTERNAL = Set.of(
            KernelObject.class.getName(), Allocator.class.getName(), Stacks.class.getName());

    private Stacks() {
    }

    /** The top {@link #REPORT_FRAMES} frames outside the allocator, innermost first. */
    static List<StackTraceElement> capture() {
        return StackWalker.getInstance().walk(s -> s
                .dropWhile(f -> INTERNAL.contains(f.getClassName()))
                .limit(REPORT_FRAMES)
                .map(StackWalker.StackFrame::toStackTraceElement)
                .collect(Collectors.toList()));
    }

    /** The innermost frame outside the allocator as {@code "SimpleClass.method"}, the default access site. */
    static String callerSite() {
        return StackWalker.getInstance().walk(s -> s
                .dropWhile(f -> INTERNAL.contains(f.getClassName()))
                .findFirst()
                .map(f -> {
                    String c = f.getClassName();
                    return c.substring(c.lastIndexOf('.') + 1) + "." + f.getMethodName();
                })
                .orElse("?"));
    }
}
