/**
 * The study's designs, one class each, found through {@code ServiceLoader}
 * ({@code META-INF/services/dev.gtramp.study.StudyDesign}).
 */
package dev.gtramp.study.designs;
