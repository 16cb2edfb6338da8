package dev.gtramp.kernel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The kernel's message log ({@code dmesg}): warnings and error reports such as RCU stall warnings
 * and KASAN reports, kept in a bounded ring like {@code log_buf}. Thread-safe; writers are rare
 * (reports, not the call path), so a monitor is enough.
 */
public final class KernelLog {
    /** A log level, as {@code printk} has them. */
    public enum Level { ERR, WARNING, INFO }

    /**
     * One message.
     *
     * @param sinceBoot time since the kernel booted
     * @param level     its level
     * @param facility  who wrote it, e.g. {@code "rcu"}, {@code "kasan"}
     * @param message   the text, naming the culprit
     * @param thread    the thread that wrote it
     */
    public record Entry(Duration sinceBoot, Level level, String facility, String message, String thread) {
        @Override
        public String toString() {
            long ns = sinceBoot.toNanos();
            return String.format("[%5d.%06d] %s: %s", ns / 1_000_000_000, (ns / 1000) % 1_000_000, facility, message);
        }
    }

    /** Entries kept; older ones are dropped, as a full {@code log_buf} drops them. */
    public static final int CAPACITY = 4096;

    private final long bootNanos = System.nanoTime();
    private final Entry[] ring = new Entry[CAPACITY];
    private long written;
    private final boolean echo;

    /** @param echo whether to print each entry to standard error as well */
    public KernelLog(boolean echo) {
        this.echo = echo;
    }

    /** Appends a message and returns it. */
    public Entry log(Level level, String facility, String message) {
        Entry e = new Entry(Duration.ofNanos(System.nanoTime() - bootNanos), Objects.requireNonNull(level),
                Objects.requireNonNull(facility), Objects.requireNonNull(message), Thread.currentThread().getName());
        synchronized (this) {
            ring[(int) (written % CAPACITY)] = e;
            written++;
        }
        if (echo) {
            System.err.println(e);
        }
        return e;
    }

    public Entry warn(String facility, String message) {
        return log(Level.WARNING, facility, message);
    }

    public Entry error(String facility, String message) {
        return log(Level.ERR, facility, message);
    }

    /** The entries still in the ring, oldest first. */
    public synchronized List<Entry> entries() {
        int n = (int) Math.min(written, CAPACITY);
        List<Entry> out = new ArrayList<>(n);
        for (long i = written - n; i < written; i++) {
            out.add(ring[(int) (i % CAPACITY)]);
        }
        return out;
    }

    /** The entries that match, oldest first. */
    public List<Entry> entries(Predicate<Entry> filter) {
        return entries().stream().filter(filter).toList();
    }

    /** How many entries have been written since boot, including dropped ones. */
    public synchronized long written() {
        return written;
    }
}
