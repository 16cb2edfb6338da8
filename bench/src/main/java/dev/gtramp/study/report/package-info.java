/**
 * The study's reports: tables, HTML, JSON, CSV and plots (XChart), written atomically.
 */
package dev.gtramp.study.report;
