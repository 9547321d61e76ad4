using Microsoft.VisualStudio.TestTools.UnitTesting;

// Leak tests read TorchSharp's process-wide live tensor count, so tests run one at a time.
[assembly: DoNotParallelize]
