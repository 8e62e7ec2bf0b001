// Every workflow the worker registers. The worker bundles this file (and what it imports) into the
// deterministic workflow sandbox.
export { upgradeCampaign, upgradeFleetBatch, upgradeFleetInstance } from './campaign';
export { restoreAndCutover } from './restore';
