package dev.gtramp.trampoline;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether a link is open, being closed or closed: {@code OPEN -> CLOSING -> CLOSED}, or
 * {@code CLOSING -> OPEN} when the detach failed and rolled back. The kernel needs none of this
 * (a link is released once, when its last reference goes, and its detach cannot fail); here
 * {@code close()} may be called by anyone, any number of times, and a detach may fail.
 *
 * <p>Invariants: exactly one caller at a time holds the close (it moved the state
 * {@code OPEN -> CLOSING}) and it ends it with {@link #closed()} or {@link #reopened()}; the link is
 * attached in {@code OPEN} and {@code CLOSING} and detached in {@code CLOSED}, which is final.
 * A close that finds another in progress waits for its outcome, uninterruptibly like
 * {@code mutex_lock}: if that one failed, it tries itself. So closing twice does nothing, two
 * threads closing at once detach once, and a close that returned normally left the link closed.
 */
final class LinkState {
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final AtomicInteger state = new AtomicInteger(OPEN);

    /**
     * Claims the close: true if the caller moved the link {@code OPEN -> CLOSING} and must now
     * detach it, then call {@link #closed()} or {@link #reopened()}; false if it is closed.
     */
    boolean claimClose() {
        boolean interrupted = false;
        try {
            while (true) {
                int s = state.get();
                if (s == CLOSED) {
                    return false;
                }
                if (s == OPEN) {
                    if (state.compareAndSet(OPEN, CLOSING)) {
                        return true;
                    }
                    continue;
                }
                synchronized (this) {
                    while (state.get() == CLOSING) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            interrupted = true;
                        }
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The detach completed: {@code CLOSING -> CLOSED}. */
    void closed() {
        settle(CLOSED);
    }

    /** The detach failed and left the link attached: {@code CLOSING -> OPEN}, so a later close retries. */
    void reopened() {
        settle(OPEN);
    }

    private void settle(int to) {
        if (!state.compareAndSet(CLOSING, to)) {
            throw new IllegalStateException("link state " + state.get() + " is not CLOSING");
        }
        synchronized (this) {
            notifyAll();
        }
    }

    /** Whether the link is closed; a link being closed is still open. */
    boolean isClosed() {
        return state.get() == CLOSED;
    }
}
