"""Packaging for csip. Every setting lives in settings.ini (nbdev 2); edit it there, not here.

Unlike nbdev 2's old template this does not import `pkg_resources`, which current setuptools no longer ships."""
from configparser import ConfigParser
import setuptools

config = ConfigParser(delimiters=['='])
config.read('settings.ini')
cfg = config['DEFAULT']

licenses = {'apache2': 'Apache-2.0'}  # SPDX expressions: setuptools deprecates license classifiers
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']

def _split(key):
    "Requirements are whitespace separated; a specifier such as `fastcore>=1.14.3,<2` stays one item."
    return (cfg.get(key) or '').split()

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    keywords=cfg['keywords'],
    author=cfg['author'],
    author_email=cfg['author_email'],
    license=licenses.get(cfg['license'].lower(), cfg['license']),
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title(),
                 'Programming Language :: Python :: 3'],
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=['csip', 'csip.*']),
    include_package_data=True,
    install_requires=_split('requirements'),
    extras_require={'dev': _split('dev_requirements'), 'text': _split('text_requirements')},
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': _split('console_scripts'),
                  'nbdev': [f"index={cfg['lib_path']}._modidx:d"]},
)
