const vars = (typeof dataform !== "undefined" && dataform.projectConfig.vars) || {};
module.exports = { lookbackDays: Number(vars.lookback_days || 90) };
