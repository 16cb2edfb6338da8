package dev.gtramp.trampoline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.ImageFunction;

import java.util.ArrayList;
import java.util.List;

/**
 * The functions a tracing multi link's pattern matches, cached per kernel with Caffeine: resolving
 * {@code "*"} against the 6.18 image's 52,681 traceable names costs a full scan and glob match each time, and tools attach the
 * same patterns again and again. The image never changes after boot, so an entry never goes stale;
 * the cache is bounded by entries (patterns) and evicts the least useful by Caffeine's W-TinyLFU.
 */
final class GlobResolutions {
    /** Patterns kept; each entry holds the pattern's function list. */
    static final int MAX_PATTERNS = 256;

    private final Kernel kernel;
    private final Cache<String, List<KernelFunction>> cache =
            Caffeine.newBuilder().maximumSize(MAX_PATTERNS).recordStats().build();

    GlobResolutions(Kernel kernel) {
        this.kernel = kernel;
    }

    /** The traceable functions matching {@code pattern}, sorted by name; an immutable list. */
    List<KernelFunction> resolve(String pattern) {
        return cache.get(pattern, this::scan);
    }

    private List<KernelFunction> scan(String pattern) {
        List<ImageFunction> matched = kernel.image().match(pattern);
        List<KernelFunction> out = new ArrayList<>(matched.size());
        for (ImageFunction f : matched) {
            out.add(kernel.function(f));
        }
        return List.copyOf(out);
    }

    /** Hits and misses so far. */
    GlobCacheStats stats() {
        var s = cache.stats();
        return new GlobCacheStats(s.hitCount(), s.missCount(), cache.estimatedSize());
    }
}
