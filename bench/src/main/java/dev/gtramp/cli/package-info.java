/**
 * The {@code gtramp} command line (picocli): {@code study} and {@code image}.
 */
package dev.gtramp.cli;
