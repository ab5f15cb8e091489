# Reports, dashboards and their panels.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('events', '0003_event_browsing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Dashboard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('range_last', models.PositiveIntegerField(blank=True, default=7, null=True, verbose_name='last')),
                ('range_unit', models.CharField(choices=[('hours', 'hours'), ('days', 'days')], default='days', max_length=8, verbose_name='unit')),
                ('range_from', models.DateTimeField(blank=True, null=True, verbose_name='from')),
                ('range_to', models.DateTimeField(blank=True, help_text='Exclusive.', null=True, verbose_name='to')),
                ('range_kind', models.CharField(choices=[('panels', "each panel's own range"), ('last', 'the last hours or days'), ('between', 'between two moments')], default='panels', max_length=8, verbose_name='time range')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('is_shared', models.BooleanField(default=False, help_text='Everyone who may view dashboards can open a shared one.', verbose_name='shared')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('owner', models.ForeignKey(blank=True, help_text='Empty for dashboards that come with fwsiem.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='dashboards', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'dashboard',
                'verbose_name_plural': 'dashboards',
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='SavedReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('range_kind', models.CharField(choices=[('last', 'the last hours or days'), ('between', 'between two moments')], default='last', max_length=8, verbose_name='time range')),
                ('range_last', models.PositiveIntegerField(blank=True, default=7, null=True, verbose_name='last')),
                ('range_unit', models.CharField(choices=[('hours', 'hours'), ('days', 'days')], default='days', max_length=8, verbose_name='unit')),
                ('range_from', models.DateTimeField(blank=True, null=True, verbose_name='from')),
                ('range_to', models.DateTimeField(blank=True, help_text='Exclusive.', null=True, verbose_name='to')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('is_shared', models.BooleanField(default=False, help_text='Everyone who may view reports can open a shared report.', verbose_name='shared')),
                ('bucket', models.CharField(choices=[('none', 'none (whole range)'), ('hour', 'hour'), ('day', 'day'), ('week', 'week'), ('month', 'month')], default='none', max_length=8, verbose_name='time bucket')),
                ('dimension_1', models.CharField(blank=True, choices=[('dst_port', 'destination port and protocol'), ('protocol', 'protocol'), ('src_country', 'source country'), ('src_country_group', 'source country group'), ('src_ip', 'source address'), ('src_network', 'source network (/24 or /48)'), ('dst_ip', 'destination address'), ('action', 'action'), ('direction', 'direction'), ('interface', 'interface'), ('device', 'device'), ('rule', 'rule')], max_length=24, verbose_name='group by')),
                ('dimension_2', models.CharField(blank=True, choices=[('dst_port', 'destination port and protocol'), ('protocol', 'protocol'), ('src_country', 'source country'), ('src_country_group', 'source country group'), ('src_ip', 'source address'), ('src_network', 'source network (/24 or /48)'), ('dst_ip', 'destination address'), ('action', 'action'), ('direction', 'direction'), ('interface', 'interface'), ('device', 'device'), ('rule', 'rule')], max_length=24, verbose_name='then by')),
                ('metric', models.CharField(choices=[('events', 'events'), ('distinct_sources', 'distinct source addresses'), ('distinct_ports', 'distinct destination ports')], default='events', max_length=24, verbose_name='count')),
                ('filter_actions', models.JSONField(blank=True, default=list, verbose_name='actions')),
                ('filter_directions', models.JSONField(blank=True, default=list, verbose_name='directions')),
                ('filter_protocols', models.JSONField(blank=True, default=list, verbose_name='protocols')),
                ('filter_ports', models.CharField(blank=True, help_text='Ports and ranges, e.g. 23, 6881, 1000-2000.', max_length=500, verbose_name='destination ports')),
                ('filter_countries', models.JSONField(blank=True, default=list, verbose_name='source countries')),
                ('country_mode', models.CharField(choices=[('include', 'only these countries'), ('exclude', 'all but these countries')], default='include', max_length=8, verbose_name='country filter')),
                ('filter_src_networks', models.TextField(blank=True, help_text='CIDR blocks or addresses, one per line.', verbose_name='source networks')),
                ('filter_dst_networks', models.TextField(blank=True, help_text='CIDR blocks or addresses, one per line.', verbose_name='destination networks')),
                ('top_n', models.PositiveIntegerField(default=10, help_text='Rows or series kept; the rest are folded into “other”.', verbose_name='top N')),
                ('chart', models.CharField(choices=[('table', 'table only'), ('bar', 'bar'), ('stacked', 'stacked bar over time'), ('line', 'line over time')], default='bar', max_length=8, verbose_name='chart')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('filter_devices', models.ManyToManyField(blank=True, related_name='+', to='events.device', verbose_name='devices')),
                ('owner', models.ForeignKey(blank=True, help_text='Empty for reports that come with fwsiem.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='saved_reports', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'saved report',
                'verbose_name_plural': 'saved reports',
                'ordering': ['name', 'id'],
                'permissions': [('export_savedreport', 'Can export report results')],
            },
        ),
        migrations.CreateModel(
            name='DashboardPanel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
                ('width', models.CharField(choices=[('half', 'half'), ('full', 'full')], default='half', max_length=4, verbose_name='width')),
                ('dashboard', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='panels', to='dashboards.dashboard', verbose_name='dashboard')),
                ('report', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='panels', to='dashboards.savedreport', verbose_name='report')),
            ],
            options={
                'verbose_name': 'panel',
                'verbose_name_plural': 'panels',
                'ordering': ['position', 'id'],
            },
        ),
    ]
