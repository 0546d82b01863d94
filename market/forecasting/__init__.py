"""Price forecasting: forecasters fitted on what is known at the gate closure, by name.

- :mod:`.information`: what is known at D-1's gate closure (the only input of a forecaster);
- :mod:`.grid`: history indexed by trading day and period of the day (DST-safe);
- :mod:`.base`: the :class:`~.base.Forecaster` interface, :class:`~.base.DayForecast`, the registry;
- :mod:`.baselines`: persistence, weekday, rolling mean;
- :mod:`.models`: LEAR (scikit-learn LASSO per period), ridge, LightGBM with quantiles;
- :mod:`.ranking`: ``lgbm_rank``, LightGBM on the within-day order of prices, ``ewm``'s levels;
- :mod:`.windows`: calibration-window averaging (the LightGBM members' point forecasts are the mean
  of fits on the last 28, 56, 112 days and all history);
- :mod:`.threads`: independent model fits (the calibration windows', the quantiles') run concurrently on
  threads, the same models (``VPP_FORECAST_THREADS`` caps the threads);
- :mod:`.ensemble`: ``blend``, the equal-weight mean of ``ewm``, ``lgbm`` and ``lgbm_rank`` (the
  default);
- :mod:`.features`, :mod:`.calendar_features`, :mod:`.feature_file`: lagged prices, exogenous
  columns, holidays, a separate feature file;
- :mod:`.run`: the registry filled (:data:`~.run.FORECASTERS`), forecasts by name (``file:PATH``
  too), :data:`~.run.DEFAULT_FORECASTER`.

This package module imports nothing heavy: command-line defaults read :data:`DEFAULT_FORECASTER`.
"""

DEFAULT_FORECASTER = "blend"
"""The default forecaster: the one that earns most on our holdout by the rule in bench/RESULTS.md
(issue 17 item 6). :mod:`.run` re-exports it."""
