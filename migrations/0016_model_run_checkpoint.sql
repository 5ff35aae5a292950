-- A model run's progress, so a retried run resumes where it stopped: the fitted model (JSON) and the
-- last customer whose profile it wrote. Cleared when the run completes.
ALTER TABLE `jobs` ADD `checkpoint` text;
