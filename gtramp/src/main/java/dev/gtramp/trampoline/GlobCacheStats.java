package dev.gtramp.trampoline;

/**
 * The pattern cache of a kernel's tracing multi links.
 *
 * @param hits     resolutions answered from the cache
 * @param misses   resolutions that scanned the image
 * @param patterns patterns held now (Caffeine's estimate)
 */
public record GlobCacheStats(long hits, long misses, long patterns) {
}
